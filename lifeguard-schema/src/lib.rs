//! Lifeguard's pure schema layer; none of it performs I/O.
//!
//! The [`table!`] macro in Diesel 2.x's syntax plus the attributes migrations need,
//! [`joinable!`], the [`sql_types`] markers and [`sql_enum!`] for PostgreSQL enums, the
//! run-time [`meta`] data the macro generates, the owned [`model`] built from it, the typed
//! [`query`] builder (SQL via sea-query, every value bound), the [`values`] PostgreSQL types
//! the ecosystem lacks, with the `parser` feature the `schema.rs` file parser that reads the
//! same declarations into the same model, and SQL identifier quoting; [`ddl`] turns the model
//! into the SQL that creates it, and [`catalog`] is the model of what a database contains, as
//! introspection reads it back from `pg_catalog` (both sides of a diff), and [`diff`] plans
//! the lock-aware steps from one catalog to the other; [`print`](mod@print) writes a catalog
//! back as a `schema.rs` (`lifeguard print-schema`).

#![warn(missing_docs)]

pub mod catalog;
pub mod ddl;
pub mod diff;
pub mod entity;
pub mod meta;
pub mod model;
#[cfg(feature = "parser")]
pub mod parser;
pub mod print;
pub mod query;
pub mod sql_types;
mod table_macro;
pub mod values;

/// Quotes `ident` as a PostgreSQL identifier, doubling embedded quotes.
///
/// ```
/// assert_eq!(lifeguard_schema::quote_ident("users"), "\"users\"");
/// assert_eq!(lifeguard_schema::quote_ident("we\"ird"), "\"we\"\"ird\"");
/// ```
pub fn quote_ident(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    out.push('"');
    for c in ident.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote_ident;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote_ident("a"), "\"a\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident(""), "\"\"");
    }
}
