//! The schema model: owned tables and columns, built from the compiled declarations
//! ([`TableMeta`]) or, with the `parser` feature, read from a `schema.rs` file. Both roads
//! lead to the same values, which is what lets the CLI trust a file it did not compile.

use crate::meta::{
    ColumnMeta, Deferrable, FkAction, ForeignKeyMeta, Identity, IndexMeta, Reference, TableMeta,
};

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Schema, if declared.
    pub schema: Option<String>,
    /// SQL name.
    pub name: String,
    /// Rust module name.
    pub rust_name: String,
    /// Primary key columns (SQL names).
    pub primary_key: Vec<String>,
    /// Columns in declaration order.
    pub columns: Vec<ColumnDef>,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// Previous name.
    pub renamed_from: Option<String>,
    /// Indexes.
    pub indexes: Vec<IndexDef>,
    /// Multi-column unique constraints: (name, columns).
    pub uniques: Vec<(Option<String>, Vec<String>)>,
    /// Check constraints: (name, expression).
    pub checks: Vec<(Option<String>, String)>,
    /// Table-level foreign keys.
    pub foreign_keys: Vec<ForeignKeyDef>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// SQL name.
    pub name: String,
    /// Rust name.
    pub rust_name: String,
    /// Base type name (`int4`, `text`, a user type).
    pub type_name: String,
    /// The labels, in order, when the base type is an enum declared with
    /// [`sql_enum!`](crate::sql_enum); empty for every other type.
    pub enum_labels: Vec<String>,
    /// Nullable.
    pub nullable: bool,
    /// Array dimensions.
    pub array_dims: u8,
    /// `varchar(n)`.
    pub max_length: Option<u32>,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// Default expression.
    pub default: Option<String>,
    /// Identity kind.
    pub identity: Option<Identity>,
    /// Stored generated expression.
    pub generated: Option<String>,
    /// Single-column unique.
    pub unique: bool,
    /// Column check expression.
    pub check: Option<String>,
    /// Column-level reference.
    pub references: Option<ReferenceDef>,
    /// Previous name.
    pub renamed_from: Option<String>,
}

/// A column-level reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceDef {
    /// Referenced table's schema.
    pub schema: Option<String>,
    /// Referenced table (SQL name).
    pub table: String,
    /// Referenced column (SQL name).
    pub column: String,
    /// `ON DELETE`.
    pub on_delete: FkAction,
    /// `ON UPDATE`.
    pub on_update: FkAction,
    /// Deferrability.
    pub deferrable: Deferrable,
}

/// A table-level foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyDef {
    /// Constraint name.
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table's schema.
    pub ref_schema: Option<String>,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns.
    pub ref_columns: Vec<String>,
    /// `ON DELETE`.
    pub on_delete: FkAction,
    /// `ON UPDATE`.
    pub on_update: FkAction,
    /// Deferrability.
    pub deferrable: Deferrable,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    /// Name.
    pub name: Option<String>,
    /// Column names or expressions.
    pub keys: Vec<String>,
    /// `UNIQUE`.
    pub unique: bool,
    /// `USING`.
    pub method: Option<String>,
    /// `INCLUDE`.
    pub include: Vec<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

impl From<&TableMeta> for TableDef {
    fn from(t: &TableMeta) -> TableDef {
        TableDef {
            schema: owned(t.schema),
            name: t.name.to_owned(),
            rust_name: t.rust_name.to_owned(),
            primary_key: strings(t.primary_key),
            columns: t.columns.iter().map(ColumnDef::from).collect(),
            docs: strings(t.docs),
            renamed_from: owned(t.renamed_from),
            indexes: t.indexes.iter().map(IndexDef::from).collect(),
            uniques: t
                .uniques
                .iter()
                .map(|u| (owned(u.name), strings(u.columns)))
                .collect(),
            checks: t
                .checks
                .iter()
                .map(|c| (owned(c.name), c.expr.to_owned()))
                .collect(),
            foreign_keys: t.foreign_keys.iter().map(ForeignKeyDef::from).collect(),
        }
    }
}

impl From<&ColumnMeta> for ColumnDef {
    fn from(c: &ColumnMeta) -> ColumnDef {
        ColumnDef {
            name: c.name.to_owned(),
            rust_name: c.rust_name.to_owned(),
            type_name: c.sql_type.name.to_owned(),
            enum_labels: strings(c.sql_type.enum_labels),
            nullable: c.sql_type.nullable,
            array_dims: c.sql_type.array_dims,
            max_length: c.max_length,
            docs: strings(c.docs),
            default: owned(c.default),
            identity: c.identity,
            generated: owned(c.generated),
            unique: c.unique,
            check: owned(c.check),
            references: c.references.as_ref().map(ReferenceDef::from),
            renamed_from: owned(c.renamed_from),
        }
    }
}

impl From<&Reference> for ReferenceDef {
    fn from(r: &Reference) -> ReferenceDef {
        ReferenceDef {
            schema: owned(r.schema),
            table: r.table.to_owned(),
            column: r.column.to_owned(),
            on_delete: r.on_delete,
            on_update: r.on_update,
            deferrable: r.deferrable,
        }
    }
}

impl From<&ForeignKeyMeta> for ForeignKeyDef {
    fn from(f: &ForeignKeyMeta) -> ForeignKeyDef {
        ForeignKeyDef {
            name: owned(f.name),
            columns: strings(f.columns),
            ref_schema: owned(f.ref_schema),
            ref_table: f.ref_table.to_owned(),
            ref_columns: strings(f.ref_columns),
            on_delete: f.on_delete,
            on_update: f.on_update,
            deferrable: f.deferrable,
        }
    }
}

impl From<&IndexMeta> for IndexDef {
    fn from(i: &IndexMeta) -> IndexDef {
        IndexDef {
            name: owned(i.name),
            keys: strings(i.keys),
            unique: i.unique,
            method: owned(i.method),
            include: strings(i.include),
            predicate: owned(i.predicate),
        }
    }
}
