//! What a refresh token says of itself: `<row>.<secret>`, the ULID of the row that holds it and
//! 256 random bits. The row keeps only keyed hashes of its current and previous tokens, so a
//! rotation rewrites one row in place (no new row, no index entry, no foreign-key check) and a
//! refresh finds its row by primary key. A token that names a row but is neither of the two it
//! holds is an older token of that row, or a guess by someone who saw one: reuse either way.
//! Tokens issued before this form (no row in them) are found by their keyed hash instead.

use ulid::Ulid;

/// The token for `row` with `secret` (already URL-safe).
#[must_use]
pub fn compose(row: Ulid, secret: &str) -> String {
    format!("{row}.{secret}")
}

/// The row a token names; `None` for a token of the older form (or no token at all).
#[must_use]
pub fn row_of(token: &str) -> Option<Ulid> {
    let (row, secret) = token.split_once('.')?;
    if row.len() != 26 || secret.is_empty() {
        return None;
    }
    // Only the canonical spelling: the parser would wrap an overflowing first character.
    Ulid::from_string(row).ok().filter(|u| u.to_string().eq_ignore_ascii_case(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_composed_token_names_its_row() {
        let row = Ulid::from_parts(1_700_000_000_000, 42);
        let token = compose(row, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(token.len(), 26 + 1 + 43);
        assert_eq!(row_of(&token), Some(row));
        // Crockford base32 reads either case.
        assert_eq!(row_of(&token.to_lowercase()), Some(row));
    }

    #[test]
    fn anything_else_names_no_row() {
        for token in [
            "",
            ".",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "01HZZZZZZZZZZZZZZZZZZZZZZZ.",
            ".secret",
            "01HZZZZZZZZZZZZZZZZZZZZZZ.secret",
            "01HZZZZZZZZZZZZZZZZZZZZZZZZ.secret",
            "01HZZZZZZZZZZZZZZZZZZZZZZU.secret",
            "81HZZZZZZZZZZZZZZZZZZZZZZZ.secret",
            "01hzzzzzzzzzzzzzzzzzzzzzz\u{e9}.secret",
        ] {
            assert_eq!(row_of(token), None, "{token:?}");
        }
    }
}
