//! `lifeguard print-schema`: a [`Catalog`] read from a database, written back as a `schema.rs`
//! in Lifeguard's DSL ([`table!`](crate::table), [`sql_enum!`](crate::sql_enum),
//! [`sql_type!`](crate::sql_type), [`joinable!`](crate::joinable)). Pure; no I/O.
//!
//! The file is written so that creating what it declares ([`crate::ddl`]) in an empty
//! database and introspecting that database gives the catalog back: every constraint and
//! index is written with its database name, and expressions are PostgreSQL's own renderings.
//! What the DSL cannot say is written as a `//` comment where it belongs (see the gaps
//! below), so nothing is dropped silently. The output depends only on the catalog and the
//! options: the same database always prints the same file.
//!
//! ```
//! use lifeguard_schema::catalog::{Catalog, Column, PrimaryKey, Table};
//! use lifeguard_schema::print::{PrintOptions, print_schema};
//!
//! let column = |name: &str, type_sql: &str| Column {
//!     name: name.into(), type_sql: type_sql.into(), nullable: false, default: None,
//!     identity: None, generated: None, collation: None, comment: None,
//! };
//! let users = Table {
//!     schema: "public".into(), name: "users".into(), comment: None,
//!     columns: vec![column("id", "bigint"), column("email", "character varying(200)")],
//!     primary_key: Some(PrimaryKey { name: "users_pkey".into(), columns: vec!["id".into()] }),
//!     uniques: vec![], checks: vec![], foreign_keys: vec![], indexes: vec![],
//! };
//! let catalog = Catalog { tables: vec![users], ..Catalog::default() };
//! let text = print_schema(&catalog, &PrintOptions::default());
//! assert!(text.contains(
//!     "    users (id) {\n        id -> Int8,\n        #[max_length = 200]\n        email -> Varchar,\n    }\n"
//! ));
//! ```
//!
//! # Mapping
//!
//! - Types (`format_type` names): `boolean` → `Bool`, `smallint`/`integer`/`bigint` →
//!   `Int2`/`Int4`/`Int8`, `real`/`double precision` → `Float4`/`Float8`, `numeric` →
//!   `Numeric`, `text` → `Text`, `character varying(n)` → `Varchar` with
//!   `#[max_length = n]`, `bytea`, `date`, `time without time zone` → `Time`,
//!   `timestamp without time zone` → `Timestamp`, `timestamp with time zone` →
//!   `Timestamptz`, `interval`, `uuid`, `json`, `jsonb`; `T[]` → `Array<T>` (PostgreSQL does
//!   not record dimensions); a nullable column → `Nullable<…>`. An enum of the catalog is
//!   declared with `sql_enum!` (variants in UpperCamelCase from the labels) and used by its
//!   Rust name. Any other type, including a built-in type with a modifier the markers do not
//!   carry (`numeric(10,2)`, `timestamp(3) with time zone`), is declared with
//!   `sql_type!(Name = "its format_type name")`, which the DDL writes back as it is.
//! - Tables: one `table!` each, in catalog order, with `use lifeguard::sql_types::*;` and a
//!   `use super::Type;` per enum or declared type it uses. A table outside
//!   [`PrintOptions::default_schema`] is written `schema.table`. Names that are not Rust
//!   identifiers (or are keywords) get a Rust name and `#[sql_name = "…"]`; Rust names are
//!   unique in the file (tables of two schemas may share a SQL name).
//! - Constraints: a single-column unique constraint with PostgreSQL's default name
//!   (`<table>_<column>_key`) is `#[unique]` on the column; every other unique, check and
//!   foreign key is a table attribute with `name = "…"`. Indexes that do not back a
//!   constraint are `#[index(on(…), unique, using = "…", include(…), where = "…", name =
//!   "…")]`: a key that is a column is its Rust name, any other key (an expression, or a
//!   column with an operator class or sort order) a string.
//! - Comments: `COMMENT ON TABLE|COLUMN` become doc comments.
//! - `joinable!(child -> parent (fk))` for each single-column foreign key to the parent's
//!   single-column primary key, when it is the only foreign key from the child to that
//!   parent (self-references left out).
//!
//! # Gaps (written as `//` comments)
//!
//! A table without a primary key (the DSL requires one: the first unique, not-null column
//! set stands in, else every column), a primary key with a name other than `<table>_pkey`,
//! deferrable or `NULLS NOT DISTINCT` unique constraints, `NOT VALID` or `NO INHERIT` checks
//! and foreign keys, `MATCH FULL` and `SET NULL (columns)` foreign keys, foreign keys to
//! tables that are not in the catalog, invalid indexes and index storage parameters,
//! exclusion constraints, column collations, sequences (a `serial` default keeps its
//! `nextval(…)`, which needs the sequence), extensions, and enums no column uses (the DDL
//! creates only the enums columns use).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::catalog::{Catalog, Column, EnumType, ForeignKey, Index, Table};
use crate::meta::{Deferrable, FkAction, Identity};

/// How [`print_schema`] writes names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintOptions {
    /// The schema written without a prefix: its tables are `users`, not `app.users`, and its
    /// enums are named without a schema. Unqualified names are created in the first schema
    /// of the `search_path`, so this is that schema (`public` by default).
    pub default_schema: String,
}

impl Default for PrintOptions {
    fn default() -> Self {
        PrintOptions {
            default_schema: "public".to_owned(),
        }
    }
}

/// Writes `catalog` as a `schema.rs` in Lifeguard's DSL (see the module documentation).
pub fn print_schema(catalog: &Catalog, options: &PrintOptions) -> String {
    Printer::new(catalog, options).print()
}

/// The header of every printed file.
const HEADER: &str = concat!(
    "// @generated by `lifeguard print-schema` from a database's catalog, in Lifeguard's DSL.\n",
    "// After editing it, `lifeguard diff` writes the migration that makes the database match.\n",
);

/// Rust keywords (strict and reserved, every edition), which cannot be identifiers.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Names a printed enum, type or table module must not take: the markers and the other items
/// `lifeguard::sql_types::*` brings into every table, the prelude's, and the crates' names.
const RESERVED: &[&str] = &[
    "Bool",
    "Int2",
    "Int4",
    "Int8",
    "Float4",
    "Float8",
    "Numeric",
    "Text",
    "Varchar",
    "Bytea",
    "Date",
    "Time",
    "Timestamp",
    "Timestamptz",
    "Interval",
    "Uuid",
    "Json",
    "Jsonb",
    "SmallInt",
    "Integer",
    "BigInt",
    "Float",
    "Double",
    "Decimal",
    "Binary",
    "VarChar",
    "Nullable",
    "Array",
    "SqlType",
    "TypeDesc",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "lifeguard",
    "lifeguard_schema",
    "core",
    "std",
    "alloc",
];

/// PostgreSQL's longest identifier, in bytes (`NAMEDATALEN - 1`).
const MAX_IDENT: usize = 63;

/// A column's type in the DSL.
struct ColumnType {
    /// `Nullable<Array<Mood>>`.
    marker: String,
    /// `#[max_length = n]`.
    max_length: Option<u32>,
    /// The enum or declared type to import with `use super::…;`.
    import: Option<String>,
}

/// The base type of a column, resolved.
enum Base<'a> {
    /// A built-in marker.
    Marker(&'static str),
    /// `character varying[(n)]`.
    Varchar(Option<u32>),
    /// An enum of the catalog, with labels.
    Enum(&'a EnumType),
    /// Anything else, by its `format_type` text.
    Custom(&'a str),
}

struct Printer<'a> {
    catalog: &'a Catalog,
    default_schema: &'a str,
    /// Rust names of the enums that have labels, by (schema, name).
    enums: HashMap<(String, String), String>,
    /// Declared types: `format_type` text → Rust name.
    customs: BTreeMap<&'a str, String>,
    /// Per table, by (schema, name): its Rust name and its columns' Rust names.
    tables: HashMap<(String, String), (String, Vec<String>)>,
}

impl<'a> Printer<'a> {
    fn new(catalog: &'a Catalog, options: &'a PrintOptions) -> Self {
        let mut p = Printer {
            catalog,
            default_schema: &options.default_schema,
            enums: HashMap::new(),
            customs: BTreeMap::new(),
            tables: HashMap::new(),
        };
        let mut used: BTreeSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();

        // Enums first (default schema first), then declared types, then tables: the most
        // visible names get the plainest spelling.
        let in_default_first = |schema: &str| schema != p.default_schema;
        let mut enums: Vec<&EnumType> = catalog
            .enums
            .iter()
            .filter(|e| !e.labels.is_empty())
            .collect();
        enums.sort_by_key(|e| in_default_first(&e.schema));
        for e in enums {
            let mut name = camel_ident(&e.name, "T");
            if used.contains(&name) {
                name = camel_ident(&format!("{}_{}", e.schema, e.name), "T");
            }
            let name = unique_name(name, &mut used, "");
            p.enums.insert((e.schema.clone(), e.name.clone()), name);
        }

        let mut customs: BTreeSet<&str> = BTreeSet::new();
        for t in &catalog.tables {
            for c in &t.columns {
                if let Base::Custom(text) = p.base_type(c) {
                    customs.insert(text);
                }
            }
        }
        for text in customs {
            let short = match parse_qualified(text) {
                Some((_, name)) => name,
                None => text.to_owned(),
            };
            let mut name = camel_ident(&short, "T");
            if used.contains(&name) {
                name = camel_ident(text, "T");
            }
            let name = unique_name(name, &mut used, "");
            p.customs.insert(text, name);
        }

        let mut tables: Vec<&Table> = catalog.tables.iter().collect();
        tables.sort_by_key(|t| in_default_first(&t.schema));
        for t in tables {
            let mut name = snake_ident(&t.name);
            if used.contains(&name) {
                name = snake_ident(&format!("{}_{}", t.schema, t.name));
            }
            let name = unique_name(name, &mut used, "_");
            let mut col_used = BTreeSet::new();
            let columns = t
                .columns
                .iter()
                .map(|c| unique_name(snake_ident(&c.name), &mut col_used, "_"))
                .collect();
            p.tables
                .insert((t.schema.clone(), t.name.clone()), (name, columns));
        }
        p
    }

    fn print(&self) -> String {
        let mut out = String::from(HEADER);
        let notes = self.file_notes();
        if !notes.is_empty() {
            out.push_str("//\n// Not expressible in the DSL, left out:\n");
            for n in notes {
                out.push_str(&format!("// - {n}\n"));
            }
        }

        for (text, name) in &self.customs {
            out.push('\n');
            let empty_enum = parse_qualified(text)
                .and_then(|(schema, name)| self.find_enum(schema.as_deref(), &name))
                .is_some();
            if empty_enum {
                out.push_str(&format!(
                    "// `{text}` is an enum without labels, which `sql_enum!` cannot declare;\n\
                     // create it before these tables.\n"
                ));
            } else {
                out.push_str(&format!(
                    "// No built-in marker for `{text}`: declared by its PostgreSQL name (a type\n\
                     // that is not built in must exist before these tables are created).\n"
                ));
            }
            out.push_str(&format!("lifeguard::sql_type!({name} = {});\n", lit(text)));
        }

        let mut used_enums: BTreeSet<(&str, &str)> = BTreeSet::new();
        for t in &self.catalog.tables {
            for c in &t.columns {
                if let Base::Enum(e) = self.base_type(c) {
                    used_enums.insert((&e.schema, &e.name));
                }
            }
        }
        for e in &self.catalog.enums {
            let Some(name) = self.enums.get(&(e.schema.clone(), e.name.clone())) else {
                continue;
            };
            out.push('\n');
            if !used_enums.contains(&(e.schema.as_str(), e.name.as_str())) {
                out.push_str(
                    "// No column uses this enum: applying this file does not create it.\n",
                );
            }
            out.push_str("lifeguard::sql_enum! {\n");
            out.push_str(&format!(
                "    pub enum {name} = {} {{\n",
                lit(&self.enum_sql_name(e))
            ));
            let mut variants = BTreeSet::new();
            for label in &e.labels {
                let v = unique_name(camel_ident(label, "V"), &mut variants, "");
                out.push_str(&format!("        {v} = {},\n", lit(label)));
            }
            out.push_str("    }\n}\n");
        }

        for t in &self.catalog.tables {
            out.push('\n');
            self.write_table(&mut out, t);
        }

        let joinables = self.joinables();
        if !joinables.is_empty() {
            out.push('\n');
            for j in joinables {
                out.push_str(&j);
                out.push('\n');
            }
        }
        out
    }

    /// What the catalog holds that no declaration says: extensions and sequences.
    fn file_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for e in &self.catalog.extensions {
            if e.name != "plpgsql" {
                notes.push(format!(
                    "extension {} {} (in schema {})",
                    e.name, e.version, e.schema
                ));
            }
        }
        for s in &self.catalog.sequences {
            match &s.owned_by {
                Some(o) => notes.push(format!(
                    "sequence {}.{}, owned by {}.{}.{}",
                    s.schema, s.name, o.schema, o.table, o.column
                )),
                None => notes.push(format!("sequence {}.{}", s.schema, s.name)),
            }
        }
        notes
    }

    /// The SQL name an enum is declared with: schema-qualified outside the default schema.
    fn enum_sql_name(&self, e: &EnumType) -> String {
        if e.schema == self.default_schema {
            e.name.clone()
        } else {
            format!("{}.{}", e.schema, e.name)
        }
    }

    /// The enum `schema.name`, or the enum `name` an unqualified type name means: the one in
    /// the default schema, else in `public`, else the only one of that name.
    fn find_enum(&self, schema: Option<&str>, name: &str) -> Option<&'a EnumType> {
        let enums = &self.catalog.enums;
        if let Some(s) = schema {
            return enums.iter().find(|e| e.schema == s && e.name == name);
        }
        let named: Vec<&EnumType> = enums.iter().filter(|e| e.name == name).collect();
        named
            .iter()
            .find(|e| e.schema == self.default_schema)
            .or_else(|| named.iter().find(|e| e.schema == "public"))
            .copied()
            .or(if named.len() == 1 {
                Some(named[0])
            } else {
                None
            })
    }

    fn base_type(&self, c: &'a Column) -> Base<'a> {
        let (base, _) = split_array(&c.type_sql);
        if let Some(b) = builtin_type(base) {
            return b;
        }
        if let Some((schema, name)) = parse_qualified(base)
            && let Some(e) = self.find_enum(schema.as_deref(), &name)
            && !e.labels.is_empty()
        {
            return Base::Enum(e);
        }
        Base::Custom(base)
    }

    fn column_type(&self, c: &'a Column) -> ColumnType {
        let (_, array) = split_array(&c.type_sql);
        let (mut marker, max_length, import) = match self.base_type(c) {
            Base::Marker(m) => (m.to_owned(), None, None),
            Base::Varchar(n) => ("Varchar".to_owned(), n, None),
            Base::Enum(e) => {
                let name = self.enums[&(e.schema.clone(), e.name.clone())].clone();
                (name.clone(), None, Some(name))
            }
            Base::Custom(text) => {
                let name = self.customs[text].clone();
                (name.clone(), None, Some(name))
            }
        };
        if array {
            marker = format!("Array<{marker}>");
        }
        if c.nullable {
            marker = format!("Nullable<{marker}>");
        }
        ColumnType {
            marker,
            max_length,
            import,
        }
    }

    fn table_names(&self, schema: &str, name: &str) -> Option<&(String, Vec<String>)> {
        self.tables.get(&(schema.to_owned(), name.to_owned()))
    }

    /// The Rust name of column `name` of `t`.
    fn column_rust<'t>(&self, cols: &'t [String], t: &Table, name: &str) -> Option<&'t str> {
        t.columns
            .iter()
            .position(|c| c.name == name)
            .map(|i| cols[i].as_str())
    }

    fn write_table(&self, out: &mut String, t: &Table) {
        let (rust, cols) = self
            .table_names(&t.schema, &t.name)
            .expect("every table is named");
        if t.columns.is_empty() {
            out.push_str(&format!(
                "// Table {}.{} has no columns, which the DSL cannot declare.\n",
                t.schema, t.name
            ));
            return;
        }
        let ident = |name: &str| self.column_rust(cols, t, name);
        let mut notes: Vec<String> = Vec::new();
        let mut attrs: Vec<String> = Vec::new();

        // The primary key, or what stands in for one.
        let pk: Vec<&str> = match &t.primary_key {
            Some(pk) => {
                if pk.name != default_pkey_name(&t.name) {
                    notes.push(format!(
                        "The primary key is named \"{}\"; the DSL's is always named \"{}\".",
                        pk.name,
                        default_pkey_name(&t.name)
                    ));
                }
                pk.columns.iter().map(String::as_str).collect()
            }
            None => {
                let stand_in = self.stand_in_key(t);
                notes.push(match &stand_in {
                    Some(k) => format!(
                        "No primary key in the database; the DSL requires one, so the unique \
                         key ({}) stands in (applying this file makes it the primary key).",
                        k.join(", ")
                    ),
                    None => "No primary key in the database; the DSL requires one, so every \
                             column stands in (applying this file makes it the primary key)."
                        .to_owned(),
                });
                stand_in.unwrap_or_else(|| t.columns.iter().map(|c| c.name.as_str()).collect())
            }
        };

        // Unique constraints: default-named single columns on the column, others here.
        let mut unique_columns: BTreeSet<&str> = BTreeSet::new();
        for u in &t.uniques {
            let nulls_not_distinct = u.definition.contains("NULLS NOT DISTINCT");
            if u.columns.len() == 1
                && u.name == format!("{}_{}_key", t.name, u.columns[0])
                && u.name.len() <= MAX_IDENT
                && u.deferrable == Deferrable::No
                && !nulls_not_distinct
                && !unique_columns.contains(u.columns[0].as_str())
            {
                unique_columns.insert(&u.columns[0]);
                continue;
            }
            if u.deferrable != Deferrable::No || nulls_not_distinct {
                notes.push(format!(
                    "Unique constraint \"{}\" is {} in the database: {}",
                    u.name,
                    if nulls_not_distinct {
                        "NULLS NOT DISTINCT"
                    } else {
                        "deferrable"
                    },
                    u.definition
                ));
            }
            let idents: Option<Vec<&str>> = u.columns.iter().map(|c| ident(c)).collect();
            match idents {
                Some(idents) => attrs.push(format!(
                    "#[unique(name = {}, {})]",
                    lit(&u.name),
                    idents.join(", ")
                )),
                None => notes.push(format!(
                    "Unique constraint \"{}\": {}",
                    u.name, u.definition
                )),
            }
        }

        for c in &t.checks {
            if !c.validated {
                notes.push(format!(
                    "Check \"{}\" is NOT VALID in the database; applying this file validates it.",
                    c.name
                ));
            }
            if c.definition.contains(" NO INHERIT") {
                notes.push(format!(
                    "Check \"{}\" is NO INHERIT in the database.",
                    c.name
                ));
            }
            attrs.push(format!(
                "#[check(name = {}, {})]",
                lit(&c.name),
                lit(&c.expression)
            ));
        }

        let constraint_names: BTreeSet<&str> = t
            .primary_key
            .iter()
            .map(|p| p.name.as_str())
            .chain(t.uniques.iter().map(|u| u.name.as_str()))
            .collect();
        for ix in &t.indexes {
            if ix.is_constraint_backed {
                if !constraint_names.contains(ix.name.as_str()) {
                    notes.push(format!(
                        "Exclusion constraint (index \"{}\"): {}",
                        ix.name, ix.definition
                    ));
                }
                continue;
            }
            match self.index_attr(t, cols, ix, &mut notes) {
                Some(a) => attrs.push(a),
                None => notes.push(format!("Index \"{}\": {}", ix.name, ix.definition)),
            }
        }

        for fk in &t.foreign_keys {
            match self.foreign_key_attr(t, cols, fk, &mut notes) {
                Some(a) => attrs.push(a),
                None => notes.push(format!(
                    "Foreign key \"{}\" references {}.{}, which is not in this file: {}",
                    fk.name, fk.ref_schema, fk.ref_table, fk.definition
                )),
            }
        }

        // `use` lines.
        let types: Vec<ColumnType> = t.columns.iter().map(|c| self.column_type(c)).collect();
        let imports: BTreeSet<&str> = types.iter().filter_map(|c| c.import.as_deref()).collect();
        out.push_str("lifeguard::table! {\n    use lifeguard::sql_types::*;\n");
        for i in imports {
            out.push_str(&format!("    use super::{i};\n"));
        }
        out.push('\n');

        write_docs(out, "    ", t.comment.as_deref());
        for n in &notes {
            write_note(out, "    ", n);
        }
        if *rust != t.name {
            out.push_str(&format!("    #[sql_name = {}]\n", lit(&t.name)));
        }
        for a in &attrs {
            out.push_str(&format!("    {a}\n"));
        }
        let schema = if t.schema == self.default_schema {
            String::new()
        } else if is_ident(&t.schema) {
            format!("{}.", t.schema)
        } else {
            write_note(
                out,
                "    ",
                &format!(
                    "The schema name \"{}\" is not a Rust identifier, which the DSL requires.",
                    t.schema
                ),
            );
            format!("{}.", snake_ident(&t.schema))
        };
        let pk: Vec<&str> = pk.iter().filter_map(|c| ident(c)).collect();
        out.push_str(&format!("    {schema}{rust} ({}) {{\n", pk.join(", ")));

        for ((c, ty), rust) in t.columns.iter().zip(&types).zip(cols) {
            write_docs(out, "        ", c.comment.as_deref());
            if let Some(coll) = &c.collation {
                write_note(
                    out,
                    "        ",
                    &format!("Collation \"{coll}\" in the database."),
                );
            }
            if c.default.as_deref().is_some_and(|d| d.contains("nextval(")) {
                write_note(
                    out,
                    "        ",
                    "The default draws from a sequence, which the DSL does not declare.",
                );
            }
            if *rust != c.name {
                out.push_str(&format!("        #[sql_name = {}]\n", lit(&c.name)));
            }
            if let Some(n) = ty.max_length {
                out.push_str(&format!("        #[max_length = {n}]\n"));
            }
            if let Some(d) = &c.default {
                out.push_str(&format!("        #[default = {}]\n", lit(d)));
            }
            match c.identity {
                Some(Identity::Always) => out.push_str("        #[identity = \"always\"]\n"),
                Some(Identity::ByDefault) => out.push_str("        #[identity = \"by default\"]\n"),
                None => {}
            }
            if let Some(g) = &c.generated {
                out.push_str(&format!("        #[generated = {}]\n", lit(g)));
            }
            if unique_columns.contains(c.name.as_str()) {
                out.push_str("        #[unique]\n");
            }
            out.push_str(&format!("        {rust} -> {},\n", ty.marker));
        }
        out.push_str("    }\n}\n");
    }

    /// For a table without a primary key: the first unique constraint, then the first unique
    /// plain index, whose columns are all NOT NULL.
    fn stand_in_key<'t>(&self, t: &'t Table) -> Option<Vec<&'t str>> {
        let not_null = |name: &str| t.column(name).is_some_and(|c| !c.nullable);
        let from_constraints = t
            .uniques
            .iter()
            .find(|u| u.columns.iter().all(|c| not_null(c)))
            .map(|u| u.columns.iter().map(String::as_str).collect());
        from_constraints.or_else(|| {
            t.indexes
                .iter()
                .find(|ix| {
                    ix.unique
                        && ix.valid
                        && ix.predicate.is_none()
                        && ix.keys.iter().all(|k| not_null(k))
                })
                .map(|ix| ix.keys.iter().map(String::as_str).collect())
        })
    }

    /// `#[index(...)]`, or `None` when a column it names cannot be found.
    fn index_attr(
        &self,
        t: &Table,
        cols: &[String],
        ix: &Index,
        notes: &mut Vec<String>,
    ) -> Option<String> {
        if !ix.valid {
            notes.push(format!(
                "Index \"{}\" is invalid in the database (a failed CREATE INDEX CONCURRENTLY).",
                ix.name
            ));
        }
        let items = index_items(&ix.definition, &ix.method);
        if let Some((_, rest)) = &items {
            let options = rest.split(" WHERE ").next().unwrap_or_default();
            if options.contains("NULLS NOT DISTINCT")
                || options.contains(" WITH (")
                || options.contains(" TABLESPACE ")
            {
                notes.push(format!(
                    "Index \"{}\" has options the DSL does not declare: {}",
                    ix.name, ix.definition
                ));
            }
        }
        let items = match items {
            Some((items, _)) if items.len() == ix.keys.len() => items,
            _ => ix.keys.clone(),
        };
        let column = |key: &str| -> Option<&str> {
            let (schema, name) = parse_qualified(key)?;
            if schema.is_some() {
                return None;
            }
            self.column_rust(cols, t, &name)
        };
        let keys: Vec<String> = ix
            .keys
            .iter()
            .zip(&items)
            .map(|(key, item)| match column(key) {
                Some(rust) if item == key => rust.to_owned(),
                _ => lit(item),
            })
            .collect();
        let mut parts = vec![format!("on({})", keys.join(", "))];
        if ix.unique {
            parts.push("unique".to_owned());
        }
        if ix.method != "btree" {
            parts.push(format!("using = {}", lit(&ix.method)));
        }
        if !ix.include.is_empty() {
            let include: Option<Vec<&str>> = ix.include.iter().map(|c| column(c)).collect();
            parts.push(format!("include({})", include?.join(", ")));
        }
        if let Some(p) = &ix.predicate {
            parts.push(format!("where = {}", lit(p)));
        }
        parts.push(format!("name = {}", lit(&ix.name)));
        Some(format!("#[index({})]", parts.join(", ")))
    }

    /// `#[foreign_key(...)]`, or `None` when the referenced table is not in the catalog.
    fn foreign_key_attr(
        &self,
        t: &Table,
        cols: &[String],
        fk: &ForeignKey,
        notes: &mut Vec<String>,
    ) -> Option<String> {
        let parent = self.catalog.table(&fk.ref_schema, &fk.ref_table)?;
        let (parent_rust, parent_cols) = self.table_names(&parent.schema, &parent.name)?;
        let columns: Option<Vec<&str>> = fk
            .columns
            .iter()
            .map(|c| self.column_rust(cols, t, c))
            .collect();
        let ref_columns: Option<Vec<&str>> = fk
            .ref_columns
            .iter()
            .map(|c| self.column_rust(parent_cols, parent, c))
            .collect();
        if !fk.validated {
            notes.push(format!(
                "Foreign key \"{}\" is NOT VALID in the database; applying this file validates it.",
                fk.name
            ));
        }
        let def = &fk.definition;
        if def.contains(" MATCH ") || def.contains("SET NULL (") || def.contains("SET DEFAULT (") {
            notes.push(format!(
                "Foreign key \"{}\" has options the DSL does not declare: {def}",
                fk.name
            ));
        }
        let mut s = format!(
            "#[foreign_key(({}) references {parent_rust}({})",
            columns?.join(", "),
            ref_columns?.join(", ")
        );
        if fk.on_delete != FkAction::NoAction {
            s.push_str(&format!(", on_delete = {}", action(fk.on_delete)));
        }
        if fk.on_update != FkAction::NoAction {
            s.push_str(&format!(", on_update = {}", action(fk.on_update)));
        }
        match fk.deferrable {
            Deferrable::No => {}
            Deferrable::InitiallyImmediate => s.push_str(", deferrable = initially_immediate"),
            Deferrable::InitiallyDeferred => s.push_str(", deferrable = initially_deferred"),
        }
        s.push_str(&format!(", name = {})]", lit(&fk.name)));
        Some(s)
    }

    /// `lifeguard::joinable!(child -> parent (fk));` lines, sorted.
    fn joinables(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        for t in &self.catalog.tables {
            let Some((child, cols)) = self.table_names(&t.schema, &t.name) else {
                continue;
            };
            if t.columns.is_empty() {
                continue;
            }
            for fk in &t.foreign_keys {
                let to_same_parent = t
                    .foreign_keys
                    .iter()
                    .filter(|f| f.ref_schema == fk.ref_schema && f.ref_table == fk.ref_table)
                    .count();
                if to_same_parent != 1
                    || fk.columns.len() != 1
                    || (fk.ref_schema == t.schema && fk.ref_table == t.name)
                {
                    continue;
                }
                let Some(parent) = self.catalog.table(&fk.ref_schema, &fk.ref_table) else {
                    continue;
                };
                let Some(pk) = &parent.primary_key else {
                    continue;
                };
                if pk.columns != fk.ref_columns {
                    continue;
                }
                let (Some((parent_rust, _)), Some(col)) = (
                    self.table_names(&parent.schema, &parent.name),
                    self.column_rust(cols, t, &fk.columns[0]),
                ) else {
                    continue;
                };
                out.insert(format!(
                    "lifeguard::joinable!({child} -> {parent_rust} ({col}));"
                ));
            }
        }
        out.into_iter().collect()
    }
}

/// The DSL's word for a foreign key action.
fn action(a: FkAction) -> &'static str {
    match a {
        FkAction::NoAction => "no_action",
        FkAction::Restrict => "restrict",
        FkAction::Cascade => "cascade",
        FkAction::SetNull => "set_null",
        FkAction::SetDefault => "set_default",
    }
}

/// The name PostgreSQL gives `table`'s primary key: `<table>_pkey`, the table name cut to
/// fit in an identifier.
fn default_pkey_name(table: &str) -> String {
    let mut end = table.len().min(MAX_IDENT - "_pkey".len());
    while !table.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}_pkey", &table[..end])
}

/// The built-in marker of a `format_type` name (without `[]`).
fn builtin_type(base: &str) -> Option<Base<'static>> {
    let marker = match base {
        "boolean" => "Bool",
        "smallint" => "Int2",
        "integer" => "Int4",
        "bigint" => "Int8",
        "real" => "Float4",
        "double precision" => "Float8",
        "numeric" => "Numeric",
        "text" => "Text",
        "bytea" => "Bytea",
        "date" => "Date",
        "time without time zone" => "Time",
        "timestamp without time zone" => "Timestamp",
        "timestamp with time zone" => "Timestamptz",
        "interval" => "Interval",
        "uuid" => "Uuid",
        "json" => "Json",
        "jsonb" => "Jsonb",
        "character varying" => return Some(Base::Varchar(None)),
        _ => {
            let n = base
                .strip_prefix("character varying(")?
                .strip_suffix(')')?
                .parse()
                .ok()?;
            return Some(Base::Varchar(Some(n)));
        }
    };
    Some(Base::Marker(marker))
}

/// `text[]` → (`text`, true). PostgreSQL records no dimensions: `int4[][]` reads `integer[]`.
fn split_array(type_sql: &str) -> (&str, bool) {
    let mut base = type_sql;
    while let Some(b) = base.strip_suffix("[]") {
        base = b;
    }
    (base, base.len() != type_sql.len())
}

/// One SQL identifier at the start of `s`, unquoted (`"We""ird"` → `We"ird`), and the rest.
fn parse_ident(s: &str) -> Option<(String, &str)> {
    if let Some(quoted) = s.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if matches!(chars.peek(), Some((_, '"'))) {
                    chars.next();
                    name.push('"');
                } else {
                    return Some((name, &quoted[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_owned(), &s[end..]))
}

/// `name`, `schema.name` or their quoted forms, as `format_type` and `pg_get_indexdef` write
/// them; `None` for anything else (`numeric(10,2)`, `lower(email)`).
fn parse_qualified(s: &str) -> Option<(Option<String>, String)> {
    let (first, rest) = parse_ident(s)?;
    if rest.is_empty() {
        return Some((None, first));
    }
    let (second, rest) = parse_ident(rest.strip_prefix('.')?)?;
    rest.is_empty().then_some((Some(first), second))
}

/// The key items of `CREATE INDEX … USING method (items) rest`, each as written (with its
/// operator class, collation and sort order), and `rest`.
fn index_items<'d>(definition: &'d str, method: &str) -> Option<(Vec<String>, &'d str)> {
    let marker = format!(" USING {method} (");
    let start = definition.find(&marker)? + marker.len();
    let s = &definition[start..];
    let mut items = Vec::new();
    let mut current = String::new();
    let (mut depth, mut in_literal, mut in_ident) = (0usize, false, false);
    for (i, c) in s.char_indices() {
        if in_literal || in_ident {
            current.push(c);
            if (in_literal && c == '\'') || (in_ident && c == '"') {
                in_literal = false;
                in_ident = false;
            }
            continue;
        }
        match c {
            '\'' => {
                in_literal = true;
                current.push(c);
            }
            '"' => {
                in_ident = true;
                current.push(c);
            }
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' if depth == 0 => {
                items.push(current.trim().to_owned());
                return Some((items, &s[i + 1..]));
            }
            ')' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => {
                items.push(current.trim().to_owned());
                current.clear();
            }
            _ => current.push(c),
        }
    }
    None
}

/// Whether `s` can be written as a Rust identifier (not a keyword, not `_`).
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !KEYWORDS.contains(&s)
}

/// A Rust identifier for a SQL name: the name itself when it is one, else lower case with
/// every other character an underscore (`Mixed Case` → `mixed_case`, `type` → `type_`).
fn snake_ident(name: &str) -> String {
    if is_ident(name) {
        return name.to_owned();
    }
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if s.chars().all(|c| c == '_') {
        s.push('x');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// An UpperCamelCase Rust identifier for a SQL name or label: words split at anything but
/// ASCII letters and digits, each capitalized (an all-capitals word is lowered first:
/// `IN_PROGRESS` → `InProgress`; `so-so` → `SoSo`), `_` between two numbers
/// (`numeric(10,2)` → `Numeric10_2`); `prefix` before a leading digit, `Empty` for nothing.
fn camel_ident(name: &str, prefix: &str) -> String {
    let mut s = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = if word.chars().any(|c| c.is_ascii_lowercase()) {
            word.to_owned()
        } else {
            word.to_ascii_lowercase()
        };
        if s.ends_with(|c: char| c.is_ascii_digit())
            && word.starts_with(|c: char| c.is_ascii_digit())
        {
            s.push('_');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            s.push(first.to_ascii_uppercase());
            s.push_str(chars.as_str());
        }
    }
    if s.is_empty() {
        s.push_str("Empty");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, prefix);
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// `name`, or `name` with the first free number appended (`sep` between them).
fn unique_name(name: String, used: &mut BTreeSet<String>, sep: &str) -> String {
    if used.insert(name.clone()) {
        return name;
    }
    (2..)
        .map(|n| format!("{name}{sep}{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .expect("some number is free")
}

/// A Rust string literal of `s`: raw (`r#"…"#`) when it holds quotes or backslashes and
/// nothing that needs escaping, else an ordinary escaped literal.
fn lit(s: &str) -> String {
    let plain = s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t');
    if plain && (s.contains('"') || s.contains('\\')) && !s.contains('\r') {
        let mut hashes = String::from("#");
        while s.contains(&format!("\"{hashes}")) {
            hashes.push('#');
        }
        return format!("r{hashes}\"{s}\"{hashes}");
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A SQL comment as doc comment lines (`/// line`).
fn write_docs(out: &mut String, indent: &str, comment: Option<&str>) {
    let Some(comment) = comment else {
        return;
    };
    for line in comment.split('\n') {
        let line: String = line.chars().filter(|c| *c != '\r').collect();
        if line.is_empty() {
            out.push_str(&format!("{indent}///\n"));
        } else {
            out.push_str(&format!("{indent}/// {line}\n"));
        }
    }
}

/// A note on something the DSL cannot say, as `//` comment lines.
fn write_note(out: &mut String, indent: &str, note: &str) {
    for line in note.lines() {
        out.push_str(&format!("{indent}// {line}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Check, PrimaryKey, Unique};

    fn col(name: &str, type_sql: &str) -> Column {
        Column {
            name: name.into(),
            type_sql: type_sql.into(),
            nullable: false,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }

    fn table(schema: &str, name: &str, columns: Vec<Column>) -> Table {
        Table {
            schema: schema.into(),
            name: name.into(),
            comment: None,
            columns,
            primary_key: Some(PrimaryKey {
                name: format!("{name}_pkey"),
                columns: vec!["id".into()],
            }),
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
        }
    }

    #[test]
    fn identifiers() {
        assert_eq!(snake_ident("email"), "email");
        assert_eq!(snake_ident("userId"), "userId");
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("Mixed Case"), "mixed_case");
        assert_eq!(snake_ident("1st"), "_1st");
        assert_eq!(snake_ident("_"), "_x");
        assert_eq!(snake_ident("é"), "_x");
        assert_eq!(camel_ident("order_status", "T"), "OrderStatus");
        assert_eq!(camel_ident("so-so", "V"), "SoSo");
        assert_eq!(camel_ident("IN_PROGRESS", "V"), "InProgress");
        assert_eq!(camel_ident("inProgress", "V"), "InProgress");
        assert_eq!(camel_ident("1st", "V"), "V1st");
        assert_eq!(camel_ident("", "V"), "Empty");
        assert_eq!(camel_ident("self", "V"), "Self_");
        assert_eq!(camel_ident("numeric(10,2)", "T"), "Numeric10_2");
        assert_eq!(
            camel_ident("timestamp(3) with time zone", "T"),
            "Timestamp3WithTimeZone"
        );
        let mut used = BTreeSet::new();
        assert_eq!(unique_name("a".into(), &mut used, "_"), "a");
        assert_eq!(unique_name("a".into(), &mut used, "_"), "a_2");
        assert_eq!(unique_name("a".into(), &mut used, "_"), "a_3");
    }

    #[test]
    fn literals() {
        assert_eq!(lit("now()"), "\"now()\"");
        assert_eq!(lit("'open'::order_status"), "\"'open'::order_status\"");
        assert_eq!(lit("lower(\"Name\")"), "r#\"lower(\"Name\")\"#");
        assert_eq!(lit("a\"#b"), "r##\"a\"#b\"##");
        assert_eq!(lit("a\\b"), "r#\"a\\b\"#");
        assert_eq!(lit("a\nb"), "\"a\nb\"".replace('\n', "\\n"));
        assert_eq!(lit("a\u{1}\"b"), "\"a\\u{1}\\\"b\"");
    }

    #[test]
    fn sql_names() {
        assert_eq!(parse_qualified("mood"), Some((None, "mood".into())));
        assert_eq!(
            parse_qualified("app.mood"),
            Some((Some("app".into()), "mood".into()))
        );
        assert_eq!(
            parse_qualified("\"My \"\"Type\"\"\".\"x.y\""),
            Some((Some("My \"Type\"".into()), "x.y".into()))
        );
        assert_eq!(parse_qualified("numeric(10,2)"), None);
        assert_eq!(parse_qualified("lower(email)"), None);
        assert_eq!(parse_qualified("double precision"), None);
        assert_eq!(split_array("text[]"), ("text", true));
        assert_eq!(split_array("text"), ("text", false));
        assert_eq!(default_pkey_name("t"), "t_pkey");
        assert_eq!(default_pkey_name(&"x".repeat(70)).len(), 63);
    }

    #[test]
    fn index_key_items() {
        let def = "CREATE UNIQUE INDEX i ON app.t USING btree (a DESC NULLS LAST, lower((b)::text), \
                   \"C, d\" text_pattern_ops, f(',', ')')) INCLUDE (e) WHERE (a > 0)";
        let (items, rest) = index_items(def, "btree").unwrap();
        assert_eq!(
            items,
            [
                "a DESC NULLS LAST",
                "lower((b)::text)",
                "\"C, d\" text_pattern_ops",
                "f(',', ')')"
            ]
        );
        assert_eq!(rest, " INCLUDE (e) WHERE (a > 0)");
        assert_eq!(index_items("CREATE INDEX i ON t USING gin (", "gin"), None);
    }

    #[test]
    fn a_small_catalog() {
        let mut id = col("id", "integer");
        id.identity = Some(Identity::Always);
        let mut kind = col("type", "app.mood[]");
        kind.nullable = true;
        kind.comment = Some("Line one.\n\nLine three.".into());
        let mut t = table(
            "app",
            "things",
            vec![id, kind, col("price", "numeric(10,2)"), col("code", "text")],
        );
        t.uniques.push(Unique {
            name: "things_code_key".into(),
            definition: "UNIQUE (code)".into(),
            columns: vec!["code".into()],
            deferrable: Deferrable::No,
        });
        t.checks.push(Check {
            name: "things_price".into(),
            definition: "CHECK ((price > (0)::numeric)) NOT VALID".into(),
            expression: "(price > (0)::numeric)".into(),
            columns: vec!["price".into()],
            validated: false,
        });
        let catalog = Catalog {
            schemas: vec!["app".into()],
            enums: vec![EnumType {
                schema: "app".into(),
                name: "mood".into(),
                labels: vec!["so-so".into(), "ok".into()],
            }],
            tables: vec![t],
            ..Catalog::default()
        };
        let text = print_schema(&catalog, &PrintOptions::default());
        let expected = format!(
            "{HEADER}
// No built-in marker for `numeric(10,2)`: declared by its PostgreSQL name (a type
// that is not built in must exist before these tables are created).
lifeguard::sql_type!(Numeric10_2 = \"numeric(10,2)\");

lifeguard::sql_enum! {{
    pub enum Mood = \"app.mood\" {{
        SoSo = \"so-so\",
        Ok = \"ok\",
    }}
}}

lifeguard::table! {{
    use lifeguard::sql_types::*;
    use super::Mood;
    use super::Numeric10_2;

    // Check \"things_price\" is NOT VALID in the database; applying this file validates it.
    #[check(name = \"things_price\", \"(price > (0)::numeric)\")]
    app.things (id) {{
        #[identity = \"always\"]
        id -> Int4,
        /// Line one.
        ///
        /// Line three.
        #[sql_name = \"type\"]
        type_ -> Nullable<Array<Mood>>,
        price -> Numeric10_2,
        #[unique]
        code -> Text,
    }}
}}
"
        );
        assert_eq!(text, expected);
        // The same catalog prints the same file.
        assert_eq!(print_schema(&catalog, &PrintOptions::default()), text);
    }
}
