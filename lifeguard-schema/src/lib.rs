//! Lifeguard's pure schema layer.
//!
//! This crate will hold the `table!` DSL, the schema model and the diff engine; none of it
//! performs I/O. Today it only carries the SQL identifier quoting shared with the client.

#![warn(missing_docs)]

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
