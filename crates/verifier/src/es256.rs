//! ECDSA P-256 signature malleability: for every valid signature `(r, s)`, `(r, n − s)` is
//! valid too, so one token would have two spellings. ScaiKey signs only with the low `s`
//! (`s ≤ n/2`, as Bitcoin's BIP 62 and most JOSE hardening guides ask) and every verifier refuses
//! the high form.

/// The order `n` of the P-256 group, big-endian.
const N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA,
    0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];
/// `⌊n / 2⌋`, big-endian.
const HALF_N: [u8; 32] = [
    0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xDE, 0x73, 0x7D,
    0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
];

/// `true` if the JWS ES256 signature (`r ‖ s`, 64 bytes) has the low `s`. Anything not 64
/// bytes long is not low-S (and not a valid ES256 signature either).
#[must_use]
pub fn is_low_s(signature: &[u8]) -> bool {
    signature.len() == 64 && signature[32..] <= HALF_N[..]
}

/// Rewrites a valid ES256 signature to its low-`s` form in place (`s := n − s` when `s > n/2`).
pub fn normalize(signature: &mut [u8]) {
    if signature.len() == 64 && !is_low_s(signature) {
        negate_s(signature);
    }
}

/// Replaces `s` by `n − s` in a 64-byte ES256 signature: the other, equally valid spelling of
/// the same signature (tests use it to forge the twin a verifier must refuse).
pub fn negate_s(signature: &mut [u8]) {
    if signature.len() != 64 {
        return;
    }
    let s = &mut signature[32..];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        s[i] = u8::try_from(d.rem_euclid(256)).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_flips_high_s_and_keeps_low_s() {
        let mut low = [0u8; 64];
        low[63] = 1;
        let before = low;
        normalize(&mut low);
        assert_eq!(low, before);
        assert!(is_low_s(&low));
        // s = n − 1 (the highest) becomes 1; s = ⌊n/2⌋ + 1 becomes ⌊n/2⌋.
        let mut high = [0u8; 64];
        high[32..].copy_from_slice(&N);
        high[63] -= 1;
        assert!(!is_low_s(&high));
        normalize(&mut high);
        assert_eq!(high[32..], low[32..]);
        let mut just_above = [0u8; 64];
        just_above[32..].copy_from_slice(&HALF_N);
        just_above[63] += 1;
        normalize(&mut just_above);
        assert_eq!(just_above[32..], HALF_N[..]);
        assert!(!is_low_s(&[0u8; 63]));
    }
}
