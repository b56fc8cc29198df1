//! DDL from the declaration model: the SQL that creates what a `schema.rs` declares, in an
//! order PostgreSQL accepts.
//!
//! `lifeguard diff` applies this to a scratch database and reads the result back with
//! `lifeguard::introspect`, so the desired side of a diff is in PostgreSQL's own normalized
//! form (DESIGN.md, decision 5). The order is: schemas, enum types, tables (columns, primary
//! key, unique and check constraints), foreign keys (after every table exists, so cycles and
//! self-references work), indexes, comments.
//!
//! ```
//! use lifeguard_schema::ddl::create_schema_sql;
//! use lifeguard_schema::model::{ColumnDef, TableDef};
//!
//! let id = ColumnDef {
//!     name: "id".into(), rust_name: "id".into(), type_name: "int8".into(),
//!     enum_labels: vec![], nullable: false, array_dims: 0, max_length: None,
//!     docs: vec![], default: None, identity: None, generated: None, unique: false,
//!     check: None, references: None, renamed_from: None,
//! };
//! let t = TableDef {
//!     schema: Some("app".into()), name: "users".into(), rust_name: "users".into(),
//!     primary_key: vec!["id".into()], columns: vec![id], docs: vec![" People.".into()],
//!     renamed_from: None, indexes: vec![], uniques: vec![], checks: vec![],
//!     foreign_keys: vec![],
//! };
//! assert_eq!(
//!     create_schema_sql(&[t]),
//!     [
//!         "CREATE SCHEMA IF NOT EXISTS \"app\"",
//!         "CREATE TABLE \"app\".\"users\" (\n  \"id\" int8 NOT NULL,\n  PRIMARY KEY (\"id\")\n)",
//!         "COMMENT ON TABLE \"app\".\"users\" IS 'People.'",
//!     ]
//! );
//! ```
//!
//! Types: the DSL's built-in types are written as PostgreSQL names them (`int4`,
//! `timestamptz`, `varchar(200)`); other type names are quoted. An enum declared with
//! `sql_enum!` is created from its labels; a custom type declared with `sql_type!` carries no
//! definition, so it must already exist (an extension's type, or one created beforehand).

use crate::meta::{Deferrable, FkAction, Identity};
use crate::model::{ColumnDef, IndexDef, TableDef};
use crate::quote_ident;

/// The statements creating a set of tables, by phase. Statements of one phase do not depend on
/// each other, so any order within a phase is valid; the phases must run in field order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaDdl {
    /// `CREATE SCHEMA IF NOT EXISTS`, one per declared schema.
    pub schemas: Vec<String>,
    /// `CREATE TYPE … AS ENUM`, one per enum type.
    pub types: Vec<String>,
    /// `CREATE TABLE`, one per table.
    pub tables: Vec<String>,
    /// `ALTER TABLE … ADD … FOREIGN KEY`, one per foreign key.
    pub foreign_keys: Vec<String>,
    /// `CREATE [UNIQUE] INDEX`, one per index.
    pub indexes: Vec<String>,
    /// `COMMENT ON TABLE|COLUMN`, one per documented table or column.
    pub comments: Vec<String>,
}

impl SchemaDdl {
    /// The statements of every phase, in order.
    pub fn into_statements(self) -> Vec<String> {
        let mut out = self.schemas;
        out.extend(self.types);
        out.extend(self.tables);
        out.extend(self.foreign_keys);
        out.extend(self.indexes);
        out.extend(self.comments);
        out
    }
}

/// The statements that create `tables` in an empty database, in dependency-safe order (see
/// the module documentation); [`schema_ddl`] gives the same statements grouped by phase.
pub fn create_schema_sql(tables: &[TableDef]) -> Vec<String> {
    schema_ddl(tables).into_statements()
}

/// The statements that create `tables`, grouped by phase.
///
/// Schemas come from the tables and from schema-qualified enum names, in order of first
/// appearance. Enum types are deduplicated by name; when two columns give the same enum name
/// different labels, the first declaration wins (the scratch database then shows the
/// difference). Foreign keys follow the table's columns (`#[references]`) and then its
/// `#[foreign_key]` declarations.
pub fn schema_ddl(tables: &[TableDef]) -> SchemaDdl {
    let mut ddl = SchemaDdl::default();
    let mut schemas: Vec<&str> = Vec::new();
    let mut enums: Vec<(&str, &[String])> = Vec::new();
    for t in tables {
        if let Some(s) = t.schema.as_deref()
            && !schemas.contains(&s)
        {
            schemas.push(s);
        }
        for c in &t.columns {
            if c.enum_labels.is_empty() || enums.iter().any(|(n, _)| *n == c.type_name) {
                continue;
            }
            if let Some((s, _)) = c.type_name.rsplit_once('.')
                && !schemas.contains(&s)
            {
                schemas.push(s);
            }
            enums.push((&c.type_name, &c.enum_labels));
        }
    }
    ddl.schemas = schemas
        .iter()
        .map(|s| format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)))
        .collect();
    ddl.types = enums
        .iter()
        .map(|(name, labels)| create_enum_sql(name, labels))
        .collect();
    for t in tables {
        ddl.tables.push(create_table_sql(t));
        ddl.foreign_keys.extend(foreign_keys_sql(t));
        ddl.indexes
            .extend(t.indexes.iter().map(|ix| create_index_sql(t, ix)));
        ddl.comments.extend(comments_sql(t));
    }
    ddl
}

/// `CREATE TYPE name AS ENUM ('a', 'b')`.
pub fn create_enum_sql(name: &str, labels: &[String]) -> String {
    let labels: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        type_name_sql(name),
        labels.join(", ")
    )
}

/// `CREATE TABLE` with the columns, the primary key, and the unique and check constraints
/// (foreign keys, indexes and comments are separate statements).
pub fn create_table_sql(t: &TableDef) -> String {
    let mut items: Vec<String> = t.columns.iter().map(column_sql).collect();
    if !t.primary_key.is_empty() {
        items.push(format!("PRIMARY KEY ({})", ident_list(&t.primary_key)));
    }
    for (name, cols) in &t.uniques {
        items.push(format!(
            "{}UNIQUE ({})",
            constraint_name(name),
            ident_list(cols)
        ));
    }
    for (name, expr) in &t.checks {
        items.push(format!("{}CHECK ({expr})", constraint_name(name)));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        table_name_sql(t),
        items.join(",\n  ")
    )
}

/// One column of `CREATE TABLE`: name, type, default, identity or generation, `NOT NULL`,
/// `UNIQUE`, `CHECK`.
pub fn column_sql(c: &ColumnDef) -> String {
    let mut s = format!("{} {}", quote_ident(&c.name), column_type_sql(c));
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    match c.identity {
        Some(Identity::Always) => s.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => s.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        None => {}
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if c.unique {
        s.push_str(" UNIQUE");
    }
    if let Some(check) = &c.check {
        s.push_str(&format!(" CHECK ({check})"));
    }
    s
}

/// A column's type: `int4`, `varchar(200)`, `text[]`, `"order_status"`.
pub fn column_type_sql(c: &ColumnDef) -> String {
    let mut s = type_name_sql(&c.type_name);
    if let Some(n) = c.max_length {
        s.push_str(&format!("({n})"));
    }
    for _ in 0..c.array_dims {
        s.push_str("[]");
    }
    s
}

/// The DSL's built-in type names, written unquoted.
const BUILTIN_TYPES: &[&str] = &[
    "bool",
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "text",
    "varchar",
    "bpchar",
    "bytea",
    "date",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "inet",
    "cidr",
    "macaddr",
    "money",
    "oid",
    "xml",
];

/// A type name as SQL writes it: built-in names as they are, other names quoted (each part of
/// a schema-qualified `schema.type`); a name that is not made of identifiers (`double
/// precision`, `numeric(10,2)`) is passed through.
pub fn type_name_sql(name: &str) -> String {
    if BUILTIN_TYPES.contains(&name) {
        return name.to_owned();
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.iter().all(|p| is_plain_ident(p)) {
        parts
            .iter()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(".")
    } else {
        name.to_owned()
    }
}

/// `ALTER TABLE … ADD [CONSTRAINT name] FOREIGN KEY …` for each of the table's foreign keys:
/// column references (`#[references]`) in column order, then `#[foreign_key]` declarations.
pub fn foreign_keys_sql(t: &TableDef) -> Vec<String> {
    let table = table_name_sql(t);
    let mut out = Vec::new();
    for c in &t.columns {
        if let Some(r) = &c.references {
            out.push(format!(
                "ALTER TABLE {table} ADD FOREIGN KEY ({}) REFERENCES {} ({}){}",
                quote_ident(&c.name),
                qualified_name(r.schema.as_deref(), &r.table),
                quote_ident(&r.column),
                fk_options(r.on_delete, r.on_update, r.deferrable)
            ));
        }
    }
    for fk in &t.foreign_keys {
        out.push(format!(
            "ALTER TABLE {table} ADD {}FOREIGN KEY ({}) REFERENCES {} ({}){}",
            constraint_name(&fk.name),
            ident_list(&fk.columns),
            qualified_name(fk.ref_schema.as_deref(), &fk.ref_table),
            ident_list(&fk.ref_columns),
            fk_options(fk.on_delete, fk.on_update, fk.deferrable)
        ));
    }
    out
}

fn fk_options(on_delete: FkAction, on_update: FkAction, deferrable: Deferrable) -> String {
    let mut s = String::new();
    if on_delete != FkAction::NoAction {
        s.push_str(&format!(" ON DELETE {}", on_delete.sql()));
    }
    if on_update != FkAction::NoAction {
        s.push_str(&format!(" ON UPDATE {}", on_update.sql()));
    }
    match deferrable {
        Deferrable::No => {}
        Deferrable::InitiallyImmediate => s.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
        Deferrable::InitiallyDeferred => s.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    s
}

/// `CREATE [UNIQUE] INDEX [name] ON table [USING method] (keys) [INCLUDE (…)] [WHERE …]`.
///
/// A key naming a column is quoted; any other key is an expression and is put in
/// parentheses. A trailing sort order (`DESC`, `NULLS LAST`, …) is kept outside the
/// parentheses, and `column opclass` (`email text_pattern_ops`) is understood.
pub fn create_index_sql(t: &TableDef, ix: &IndexDef) -> String {
    let mut s = String::from(if ix.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    if let Some(name) = &ix.name {
        s.push_str(&quote_ident(name));
        s.push(' ');
    }
    s.push_str("ON ");
    s.push_str(&table_name_sql(t));
    if let Some(m) = &ix.method {
        s.push_str(" USING ");
        s.push_str(m);
    }
    let keys: Vec<String> = ix.keys.iter().map(|k| index_key_sql(t, k)).collect();
    s.push_str(&format!(" ({})", keys.join(", ")));
    if !ix.include.is_empty() {
        s.push_str(&format!(" INCLUDE ({})", ident_list(&ix.include)));
    }
    if let Some(p) = &ix.predicate {
        s.push_str(&format!(" WHERE {p}"));
    }
    s
}

fn index_key_sql(t: &TableDef, key: &str) -> String {
    let key = key.trim();
    let is_column = |k: &str| t.columns.iter().any(|c| c.name == k);
    if is_column(key) || is_plain_ident(key) {
        return quote_ident(key);
    }
    // Peel a trailing sort order off: `expr DESC NULLS LAST`.
    let mut body = key;
    let mut suffix: Vec<&str> = Vec::new();
    loop {
        let words: Vec<&str> = body.split_whitespace().collect();
        let n = words.len();
        if n >= 3
            && words[n - 2].eq_ignore_ascii_case("nulls")
            && (words[n - 1].eq_ignore_ascii_case("first")
                || words[n - 1].eq_ignore_ascii_case("last"))
        {
            suffix.insert(0, &body[body.len() - tail_len(body, 2)..]);
            body = body[..body.len() - tail_len(body, 2)].trim_end();
        } else if n >= 2
            && (words[n - 1].eq_ignore_ascii_case("asc")
                || words[n - 1].eq_ignore_ascii_case("desc"))
        {
            suffix.insert(0, &body[body.len() - tail_len(body, 1)..]);
            body = body[..body.len() - tail_len(body, 1)].trim_end();
        } else {
            break;
        }
    }
    let suffix: String = suffix.iter().map(|w| format!(" {}", w.trim())).collect();
    let body_sql = if is_column(body) || is_plain_ident(body) {
        quote_ident(body)
    } else {
        match body.split_once(char::is_whitespace) {
            // `column opclass`.
            Some((col, opclass)) if is_column(col) && is_plain_ident(opclass.trim()) => {
                format!("{} {}", quote_ident(col), opclass.trim())
            }
            _ => format!("({body})"),
        }
    };
    format!("{body_sql}{suffix}")
}

/// The length of the last `words` whitespace-separated words of `s` (with the whitespace
/// between them).
fn tail_len(s: &str, words: usize) -> usize {
    let mut seen = 0;
    let mut in_word = false;
    for (i, ch) in s.char_indices().rev() {
        if ch.is_whitespace() {
            if in_word {
                seen += 1;
                in_word = false;
                if seen == words {
                    return s.len() - (i + ch.len_utf8());
                }
            }
        } else {
            in_word = true;
        }
    }
    s.len()
}

/// `COMMENT ON TABLE` and `COMMENT ON COLUMN` from the table's and columns' doc comments.
pub fn comments_sql(t: &TableDef) -> Vec<String> {
    let table = table_name_sql(t);
    let mut out = Vec::new();
    if let Some(text) = doc_comment(&t.docs) {
        out.push(format!(
            "COMMENT ON TABLE {table} IS {}",
            quote_literal(&text)
        ));
    }
    for c in &t.columns {
        if let Some(text) = doc_comment(&c.docs) {
            out.push(format!(
                "COMMENT ON COLUMN {table}.{} IS {}",
                quote_ident(&c.name),
                quote_literal(&text)
            ));
        }
    }
    out
}

/// The SQL comment a doc comment stands for: the lines with the one leading space `///`
/// leaves removed, joined with newlines, blank lines at either end dropped. `None` when
/// nothing is left.
pub fn doc_comment(docs: &[String]) -> Option<String> {
    let lines: Vec<&str> = docs
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect();
    let text = lines.join("\n");
    let text = text.trim_matches('\n');
    (!text.trim().is_empty()).then(|| text.to_owned())
}

/// A string literal: `'it''s'`.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"schema"."name"` or `"name"`.
pub fn qualified_name(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
        None => quote_ident(name),
    }
}

fn table_name_sql(t: &TableDef) -> String {
    qualified_name(t.schema.as_deref(), &t.name)
}

fn constraint_name(name: &Option<String>) -> String {
    match name {
        Some(n) => format!("CONSTRAINT {} ", quote_ident(n)),
        None => String::new(),
    }
}

fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ForeignKeyDef, ReferenceDef};

    fn col(name: &str, ty: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            rust_name: name.into(),
            type_name: ty.into(),
            enum_labels: Vec::new(),
            nullable: false,
            array_dims: 0,
            max_length: None,
            docs: Vec::new(),
            default: None,
            identity: None,
            generated: None,
            unique: false,
            check: None,
            references: None,
            renamed_from: None,
        }
    }

    fn table(schema: Option<&str>, name: &str, columns: Vec<ColumnDef>) -> TableDef {
        TableDef {
            schema: schema.map(Into::into),
            name: name.into(),
            rust_name: name.into(),
            primary_key: vec!["id".into()],
            columns,
            docs: Vec::new(),
            renamed_from: None,
            indexes: Vec::new(),
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
        }
    }

    fn index(keys: &[&str]) -> IndexDef {
        IndexDef {
            name: None,
            keys: keys.iter().map(|k| (*k).into()).collect(),
            unique: false,
            method: None,
            include: Vec::new(),
            predicate: None,
        }
    }

    /// Roughly shop.rs's `orders`.
    fn orders() -> TableDef {
        let mut id = col("id", "int8");
        id.identity = Some(Identity::ByDefault);
        let mut total = col("total", "numeric");
        total.check = Some("total >= 0".into());
        let mut qty = col("qty", "int4");
        qty.default = Some("0".into());
        let mut gross = col("gross", "numeric");
        gross.generated = Some("total * qty".into());
        gross.nullable = true;
        let mut tags = col("tags", "text");
        tags.array_dims = 1;
        let mut status = col("status", "order_status");
        status.enum_labels = vec!["open".into(), "it's shipped".into()];
        status.default = Some("'open'".into());
        let mut name = col("name", "varchar");
        name.max_length = Some(200);
        name.unique = true;
        name.docs = vec![" Shown on".into(), " invoices.".into()];
        let mut customer_id = col("customer_id", "int8");
        customer_id.references = Some(ReferenceDef {
            schema: Some("shop".into()),
            table: "customers".into(),
            column: "id".into(),
            on_delete: FkAction::Cascade,
            on_update: FkAction::Restrict,
            deferrable: Deferrable::No,
        });
        let mut t = table(
            Some("shop"),
            "orders",
            vec![id, customer_id, total, qty, gross, tags, status, name],
        );
        t.docs = vec![" Orders.".into()];
        t.uniques = vec![
            (
                Some("orders_name_qty_key".into()),
                vec!["name".into(), "qty".into()],
            ),
            (None, vec!["tags".into()]),
        ];
        t.checks = vec![
            (Some("orders_qty".into()), "qty > 0".into()),
            (None, "true".into()),
        ];
        t.foreign_keys = vec![ForeignKeyDef {
            name: Some("orders_parent_fk".into()),
            columns: vec!["customer_id".into(), "qty".into()],
            ref_schema: None,
            ref_table: "parents".into(),
            ref_columns: vec!["a".into(), "b".into()],
            on_delete: FkAction::SetNull,
            on_update: FkAction::NoAction,
            deferrable: Deferrable::InitiallyDeferred,
        }];
        let mut gin = index(&["tags"]);
        gin.method = Some("gin".into());
        let mut partial = index(&["qty"]);
        partial.unique = true;
        partial.name = Some("orders_open_idx".into());
        partial.predicate = Some("NOT cancelled".into());
        partial.include = vec!["total".into(), "name".into()];
        t.indexes = vec![index(&["customer_id", "qty"]), gin, partial];
        t
    }

    #[test]
    fn a_whole_table_in_dependency_order() {
        let sql = create_schema_sql(&[orders()]);
        let expected = [
            "CREATE SCHEMA IF NOT EXISTS \"shop\"",
            "CREATE TYPE \"order_status\" AS ENUM ('open', 'it''s shipped')",
            "CREATE TABLE \"shop\".\"orders\" (\n  \
             \"id\" int8 GENERATED BY DEFAULT AS IDENTITY NOT NULL,\n  \
             \"customer_id\" int8 NOT NULL,\n  \
             \"total\" numeric NOT NULL CHECK (total >= 0),\n  \
             \"qty\" int4 DEFAULT 0 NOT NULL,\n  \
             \"gross\" numeric GENERATED ALWAYS AS (total * qty) STORED,\n  \
             \"tags\" text[] NOT NULL,\n  \
             \"status\" \"order_status\" DEFAULT 'open' NOT NULL,\n  \
             \"name\" varchar(200) NOT NULL UNIQUE,\n  \
             PRIMARY KEY (\"id\"),\n  \
             CONSTRAINT \"orders_name_qty_key\" UNIQUE (\"name\", \"qty\"),\n  \
             UNIQUE (\"tags\"),\n  \
             CONSTRAINT \"orders_qty\" CHECK (qty > 0),\n  \
             CHECK (true)\n)",
            "ALTER TABLE \"shop\".\"orders\" ADD FOREIGN KEY (\"customer_id\") REFERENCES \
             \"shop\".\"customers\" (\"id\") ON DELETE CASCADE ON UPDATE RESTRICT",
            "ALTER TABLE \"shop\".\"orders\" ADD CONSTRAINT \"orders_parent_fk\" FOREIGN KEY \
             (\"customer_id\", \"qty\") REFERENCES \"parents\" (\"a\", \"b\") ON DELETE SET NULL \
             DEFERRABLE INITIALLY DEFERRED",
            "CREATE INDEX ON \"shop\".\"orders\" (\"customer_id\", \"qty\")",
            "CREATE INDEX ON \"shop\".\"orders\" USING gin (\"tags\")",
            "CREATE UNIQUE INDEX \"orders_open_idx\" ON \"shop\".\"orders\" (\"qty\") \
             INCLUDE (\"total\", \"name\") WHERE NOT cancelled",
            "COMMENT ON TABLE \"shop\".\"orders\" IS 'Orders.'",
            "COMMENT ON COLUMN \"shop\".\"orders\".\"name\" IS 'Shown on\ninvoices.'",
        ];
        assert_eq!(sql, expected);
    }

    #[test]
    fn schemas_and_enums_are_deduplicated() {
        let mut a = col("a", "shop.mood");
        a.enum_labels = vec!["x".into()];
        let mut b = a.clone();
        b.name = "b".into();
        b.array_dims = 2;
        let t1 = table(Some("app"), "t1", vec![col("id", "int4"), a]);
        let t2 = table(Some("app"), "t2", vec![col("id", "int4"), b]);
        let ddl = schema_ddl(&[t1, t2]);
        assert_eq!(
            ddl.schemas,
            [
                "CREATE SCHEMA IF NOT EXISTS \"app\"",
                "CREATE SCHEMA IF NOT EXISTS \"shop\""
            ]
        );
        assert_eq!(ddl.types, ["CREATE TYPE \"shop\".\"mood\" AS ENUM ('x')"]);
        assert!(ddl.tables[1].contains("\"b\" \"shop\".\"mood\"[][] NOT NULL"));
    }

    #[test]
    fn index_keys_columns_and_expressions() {
        let mut t = table(None, "users", vec![col("id", "int4"), col("email", "text")]);
        t.columns.push(col("Mixed Case", "text"));
        let key = |k: &str| index_key_sql(&t, k);
        assert_eq!(key("email"), "\"email\"");
        assert_eq!(key("Mixed Case"), "\"Mixed Case\"");
        assert_eq!(key("lower(email)"), "(lower(email))");
        assert_eq!(key("email DESC"), "\"email\" DESC");
        assert_eq!(key("email desc  nulls last"), "\"email\" desc nulls last");
        assert_eq!(
            key("lower(email) NULLS FIRST"),
            "(lower(email)) NULLS FIRST"
        );
        assert_eq!(key("email text_pattern_ops"), "\"email\" text_pattern_ops");
        assert_eq!(key("id + 1"), "(id + 1)");
        assert_eq!(key("(id + 1)"), "((id + 1))");
        let mut ix = index(&["lower(email)", "id"]);
        ix.method = Some("btree".into());
        assert_eq!(
            create_index_sql(&t, &ix),
            "CREATE INDEX ON \"users\" USING btree ((lower(email)), \"id\")"
        );
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name_sql("timestamptz"), "timestamptz");
        assert_eq!(type_name_sql("mood"), "\"mood\"");
        assert_eq!(type_name_sql("Mood"), "\"Mood\"");
        assert_eq!(type_name_sql("app.mood"), "\"app\".\"mood\"");
        assert_eq!(type_name_sql("double precision"), "double precision");
        let mut c = col("v", "varchar");
        c.max_length = Some(10);
        c.array_dims = 1;
        assert_eq!(column_type_sql(&c), "varchar(10)[]");
    }

    #[test]
    fn doc_comments() {
        let docs = |l: &[&str]| doc_comment(&l.iter().map(|s| (*s).into()).collect::<Vec<_>>());
        assert_eq!(docs(&[" One."]), Some("One.".into()));
        assert_eq!(
            docs(&["", " One.", "", "  Indented. ", ""]),
            Some("One.\n\n Indented.".into())
        );
        assert_eq!(docs(&[]), None);
        assert_eq!(docs(&[" ", ""]), None);
        assert_eq!(quote_literal("a'b\\c"), "'a''b\\c'");
    }

    #[test]
    fn no_primary_key_no_constraints() {
        let mut t = table(None, "log", vec![col("line", "text")]);
        t.primary_key.clear();
        assert_eq!(
            create_schema_sql(&[t]),
            ["CREATE TABLE \"log\" (\n  \"line\" text NOT NULL\n)"]
        );
    }
}
