//! Splits a SQL script into statements at top-level `;`, for scripts that run statement by
//! statement outside a transaction (PostgreSQL runs a multi-statement simple query as one
//! implicit transaction, where `CREATE INDEX CONCURRENTLY` is refused).
//!
//! Understood: `'strings'` (with `''`), `E'strings'` (with backslash escapes), `"identifiers"`,
//! `$tag$dollar quotes$tag$`, `-- line comments` and nested `/* block comments */`. Not
//! understood: `BEGIN ATOMIC ... END` function bodies (use a dollar-quoted body instead).

/// The statements of `sql`, trimmed, without the `;` and without pieces that hold only
/// whitespace and comments.
pub(crate) fn split_statements(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    let mut i = 0;
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    while i < b.len() {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p + 1);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b';' => {
                if has_code {
                    out.push(sql[start..i].trim());
                }
                has_code = false;
                i += 1;
                start = i;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            has_code = true;
        }
        match c {
            b'\'' => {
                let escapes = i > 0
                    && (b[i - 1] == b'e' || b[i - 1] == b'E')
                    && (i < 2 || !ident_char(b[i - 2]));
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                    } else if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 2;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                i += 1;
            }
            b'$' if i == 0 || !ident_char(b[i - 1]) => match dollar_tag(&b[i..]) {
                Some(len) => {
                    let tag = &b[i..i + len];
                    i += len;
                    i = b[i..]
                        .windows(tag.len())
                        .position(|w| w == tag)
                        .map_or(b.len(), |p| i + p + tag.len());
                }
                None => i += 1,
            },
            _ if ident_char(c) => {
                // Skip a whole word, so that `$` or `e'` inside it is not taken for a quote.
                while i < b.len() && ident_char(b[i]) {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    if has_code {
        out.push(sql[start..].trim());
    }
    out
}

/// The length of a dollar-quote opening tag (`$$`, `$body$`) at the start of `b`.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    debug_assert_eq!(b.first(), Some(&b'$'));
    let mut j = 1;
    while j < b.len() {
        let c = b[j];
        if c == b'$' {
            return Some(j + 1);
        }
        let ok = c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 || (j > 1 && c.is_ascii_digit());
        if !ok {
            return None;
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_at_top_level_semicolons() {
        assert_eq!(
            split_statements("CREATE TABLE a (id int);\n\nSELECT 1;  \n-- done\n"),
            ["CREATE TABLE a (id int)", "SELECT 1"]
        );
        assert_eq!(split_statements("SELECT 1"), ["SELECT 1"]);
        assert!(split_statements("  -- only a comment\n /* and ; this */ ;; ").is_empty());
    }

    #[test]
    fn quotes_and_comments_hide_semicolons() {
        let sql = "-- lifeguard:no-transaction\n\
                   INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y');\n\
                   CREATE INDEX CONCURRENTLY \"i;x\" ON t (a); /* c; /* nested; */ still; */\n\
                   CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;\n\
                   CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT 2; $$;\n\
                   SELECT $1::int, a$b FROM t -- trailing; comment\n;";
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 5, "{parts:#?}");
        assert!(parts[0].ends_with("E'x\\';y')"), "{}", parts[0]);
        assert!(parts[1].starts_with("CREATE INDEX CONCURRENTLY \"i;x\""));
        assert!(parts[2].ends_with("$body$ SELECT 1; $body$"));
        assert!(parts[3].ends_with("$$ SELECT 2; $$"));
        assert!(parts[4].starts_with("SELECT $1::int, a$b FROM t"));
    }

    #[test]
    fn e_inside_a_word_is_not_an_escape_prefix() {
        // `type'...'` is not an E-string: the backslash does not escape the quote.
        assert_eq!(
            split_statements("SELECT date'2020-01-01', 'a\\'; SELECT 2"),
            ["SELECT date'2020-01-01', 'a\\'", "SELECT 2"]
        );
    }
}
