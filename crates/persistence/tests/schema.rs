//! `src/schema.rs` is written by hand: this test compares every table and column it declares
//! (name, type, nullability) with the catalogue of a freshly migrated database, both ways.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::BTreeMap;

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use scaikey_testkit::TestDb;

/// (table, column) → (SQL type as PostgreSQL names it, nullable).
type Columns = BTreeMap<(String, String), (String, bool)>;

fn pg_type(diesel_type: &str) -> String {
    match diesel_type {
        "Uuid" => "uuid",
        "Text" => "text",
        "Int4" => "integer",
        "Int8" => "bigint",
        "Bool" => "boolean",
        "Timestamptz" => "timestamp with time zone",
        "Jsonb" => "jsonb",
        "Bytea" => "bytea",
        t if t.starts_with("Array<") => "ARRAY",
        other => panic!("map the diesel type {other} in this test"),
    }
    .to_string()
}

/// Reads `table_name (pk) { column -> Type, … }` blocks from schema.rs.
fn declared() -> Columns {
    let src = include_str!("../src/schema.rs");
    let mut out = Columns::new();
    let mut table: Option<String> = None;
    for line in src.lines().map(str::trim) {
        if let Some(t) = table.clone() {
            if line == "}" {
                table = None;
            } else if let Some((col, ty)) = line.trim_end_matches(',').split_once(" -> ") {
                let (nullable, ty) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                    Some(inner) => (true, inner),
                    None => (false, ty),
                };
                out.insert((t, col.to_string()), (pg_type(ty), nullable));
            }
        } else if line.ends_with('{') && line.contains('(') && !line.starts_with("diesel::") {
            table = Some(line.split_whitespace().next().unwrap().to_string());
        }
    }
    out
}

#[derive(diesel::QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[tokio::test]
async fn schema_rs_matches_the_migrated_database() {
    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    let declared = declared();
    let tables: std::collections::BTreeSet<&String> = declared.keys().map(|(t, _)| t).collect();
    assert!(tables.len() >= 14, "parsed only {tables:?}");
    let cols: Vec<Col> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut c)
    .await
    .unwrap();
    let actual: Columns =
        cols.into_iter().map(|c| ((c.table_name, c.column_name), (c.data_type, c.is_nullable == "YES"))).collect();
    let missing: Vec<_> = declared.iter().filter(|(k, v)| actual.get(*k) != Some(*v)).collect();
    assert!(missing.is_empty(), "schema.rs declares what the database does not have: {missing:#?}");
    let undeclared: Vec<_> = actual.keys().filter(|k| !declared.contains_key(*k)).collect();
    assert!(undeclared.is_empty(), "the database has columns schema.rs does not declare: {undeclared:#?}");
}
