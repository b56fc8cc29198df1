//! The catalog model: what a PostgreSQL database contains, as read back from `pg_catalog`
//! (`lifeguard::introspect`). Pure data; no I/O.
//!
//! This is the form both sides of a `lifeguard diff` are brought into (DESIGN.md, decision 5):
//! the live database is introspected, and the declarations are applied to a scratch database
//! and introspected the same way. Text fields hold PostgreSQL's own renderings
//! (`format_type`, `pg_get_expr`, `pg_get_indexdef`, `pg_get_constraintdef`), so two
//! declarations that PostgreSQL normalizes to the same thing compare equal, and
//! `varchar(200)` against `character varying(200)` is never a difference.
//!
//! Ordering is canonical ([`Catalog::sort`]): schemas, extensions, enums, tables, sequences,
//! constraints and indexes are sorted by name (bytewise), so the order in which objects were
//! created does not matter. Columns stay in `attnum` order, and enum labels in their declared
//! order, since both are part of what the database means.

use crate::meta::{Deferrable, FkAction, Identity};

/// Everything introspected from one database (for the schemas asked for).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    /// Schema names, sorted.
    pub schemas: Vec<String>,
    /// Installed extensions (database-wide), sorted by name.
    pub extensions: Vec<Extension>,
    /// Enum types, sorted by (schema, name).
    pub enums: Vec<EnumType>,
    /// Tables, sorted by (schema, name).
    pub tables: Vec<Table>,
    /// Sequences not owned by an identity column, sorted by (schema, name).
    pub sequences: Vec<Sequence>,
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// `extname`.
    pub name: String,
    /// The schema its objects live in.
    pub schema: String,
    /// `extversion`.
    pub version: String,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Labels in sort order (`enumsortorder`).
    pub labels: Vec<String>,
}

/// A table (`relkind` `r` or `p`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Columns in `attnum` order (dropped columns left out).
    pub columns: Vec<Column>,
    /// The primary key constraint.
    pub primary_key: Option<PrimaryKey>,
    /// Unique constraints, sorted by name.
    pub uniques: Vec<Unique>,
    /// Check constraints, sorted by name.
    pub checks: Vec<Check>,
    /// Foreign keys of this table (it is the referencing side), sorted by name.
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes, sorted by name, including those backing a constraint
    /// ([`Index::is_constraint_backed`]).
    pub indexes: Vec<Index>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// `format_type(atttypid, atttypmod)`: `character varying(200)`, `integer[]`,
    /// `timestamp with time zone`, `order_status` (user types are schema-qualified when their
    /// schema is not on the connection's `search_path`).
    pub type_sql: String,
    /// `NOT attnotnull`.
    pub nullable: bool,
    /// `pg_get_expr(adbin, adrelid)` of a plain default (`now()`, `'open'::order_status`);
    /// `None` for generated columns, whose expression is in [`Column::generated`].
    pub default: Option<String>,
    /// `GENERATED ALWAYS|BY DEFAULT AS IDENTITY`.
    pub identity: Option<Identity>,
    /// The expression of a `GENERATED ALWAYS AS (…) STORED` column.
    pub generated: Option<String>,
    /// The collation, only when it differs from the type's default (schema-qualified when not
    /// in `pg_catalog`).
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
}

/// A primary key constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    /// Constraint name.
    pub name: String,
    /// Key columns, in key order.
    pub columns: Vec<String>,
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    /// Constraint name.
    pub name: String,
    /// `pg_get_constraintdef`: `UNIQUE (tenant_id, email)`.
    pub definition: String,
    /// Columns, in key order.
    pub columns: Vec<String>,
    /// Deferrability.
    pub deferrable: Deferrable,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Constraint name.
    pub name: String,
    /// `pg_get_constraintdef`: `CHECK ((total >= (0)::numeric))` (with ` NOT VALID` when not
    /// validated).
    pub definition: String,
    /// `pg_get_expr(conbin, conrelid)`: `(total >= (0)::numeric)`.
    pub expression: String,
    /// Columns the expression refers to (`conkey`), in `conkey` order.
    pub columns: Vec<String>,
    /// `convalidated` (false after `ADD … NOT VALID` until `VALIDATE`).
    pub validated: bool,
}

/// A foreign key constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// `pg_get_constraintdef`: `FOREIGN KEY (customer_id) REFERENCES shop.customers(id) ON
    /// DELETE CASCADE DEFERRABLE INITIALLY DEFERRED`.
    pub definition: String,
    /// Referencing columns, in key order.
    pub columns: Vec<String>,
    /// Referenced table's schema.
    pub ref_schema: String,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns, in key order.
    pub ref_columns: Vec<String>,
    /// `ON DELETE`.
    pub on_delete: FkAction,
    /// `ON UPDATE`.
    pub on_update: FkAction,
    /// Deferrability.
    pub deferrable: Deferrable,
    /// `convalidated`.
    pub validated: bool,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Index name (in the table's schema).
    pub name: String,
    /// `pg_get_indexdef`: `CREATE UNIQUE INDEX orders_open_idx ON shop.orders USING btree
    /// (placed_at) WHERE (NOT cancelled)`.
    pub definition: String,
    /// `indisunique`.
    pub unique: bool,
    /// The index backs a primary key, unique or exclusion constraint: it is created and
    /// dropped with the constraint, so a diff compares the constraint instead.
    pub is_constraint_backed: bool,
    /// Access method: `btree`, `gin`, `gist`, `hash`, `brin`, …
    pub method: String,
    /// Key columns or expressions, one per key (`pg_get_indexdef(oid, n, false)`: no sort
    /// order or operator class; those are in [`Index::definition`]).
    pub keys: Vec<String>,
    /// `INCLUDE` columns.
    pub include: Vec<String>,
    /// `pg_get_expr(indpred, indrelid)` of a partial index: `(NOT cancelled)`.
    pub predicate: Option<String>,
    /// `indisvalid` (false for a failed `CREATE INDEX CONCURRENTLY`).
    pub valid: bool,
}

/// A sequence that is not an identity column's (those belong to their column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// `OWNED BY` (a `serial` column's sequence is owned by its column).
    pub owned_by: Option<OwnedBy>,
    /// `format_type(seqtypid)`: `bigint`, `integer`, `smallint`.
    pub data_type: String,
    /// `START`.
    pub start: i64,
    /// `INCREMENT`.
    pub increment: i64,
    /// `MINVALUE`.
    pub min: i64,
    /// `MAXVALUE`.
    pub max: i64,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    pub cycle: bool,
}

/// The column a sequence is owned by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedBy {
    /// The table's schema.
    pub schema: String,
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
}

impl Catalog {
    /// Puts every list into canonical order (see the module documentation). Introspection
    /// returns sorted catalogs; call this after building or editing one by hand.
    pub fn sort(&mut self) {
        self.schemas.sort();
        self.schemas.dedup();
        self.extensions.sort_by(|a, b| a.name.cmp(&b.name));
        self.enums
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.sequences
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.tables
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for t in &mut self.tables {
            t.sort();
        }
    }

    /// The table `schema.name`.
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// The enum type `schema.name`.
    pub fn enum_type(&self, schema: &str, name: &str) -> Option<&EnumType> {
        self.enums
            .iter()
            .find(|e| e.schema == schema && e.name == name)
    }

    /// The sequence `schema.name`.
    pub fn sequence(&self, schema: &str, name: &str) -> Option<&Sequence> {
        self.sequences
            .iter()
            .find(|s| s.schema == schema && s.name == name)
    }

    /// The extension `name`.
    pub fn extension(&self, name: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.name == name)
    }
}

impl Table {
    /// Sorts constraints and indexes by name (columns keep their `attnum` order).
    pub fn sort(&mut self) {
        self.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
        self.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// The column `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The unique constraint `name`.
    pub fn unique(&self, name: &str) -> Option<&Unique> {
        self.uniques.iter().find(|c| c.name == name)
    }

    /// The check constraint `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The foreign key `name`.
    pub fn foreign_key(&self, name: &str) -> Option<&ForeignKey> {
        self.foreign_keys.iter().find(|c| c.name == name)
    }

    /// The index `name`.
    pub fn index(&self, name: &str) -> Option<&Index> {
        self.indexes.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Table {
        Table {
            schema: "public".into(),
            name: name.into(),
            comment: None,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
        }
    }

    fn check(name: &str) -> Check {
        Check {
            name: name.into(),
            definition: "CHECK (true)".into(),
            expression: "true".into(),
            columns: Vec::new(),
            validated: true,
        }
    }

    #[test]
    fn sorting_makes_creation_order_irrelevant() {
        let mut a = Catalog {
            schemas: vec!["b".into(), "a".into()],
            tables: vec![table("y"), table("x")],
            ..Catalog::default()
        };
        a.tables[0].checks = vec![check("c2"), check("c1")];
        let mut b = Catalog {
            schemas: vec!["a".into(), "b".into()],
            tables: vec![table("x"), table("y")],
            ..Catalog::default()
        };
        b.tables[1].checks = vec![check("c1"), check("c2")];
        assert_ne!(a, b);
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(a.table("public", "y").unwrap().checks[0].name, "c1");
        assert!(a.table("public", "z").is_none());
    }
}
