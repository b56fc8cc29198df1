//! What a `table!` declaration says, readable at run time: every table and column with its
//! SQL name, type, nullability and primary key. Traits tie the generated types to it.

use crate::sql_types::{SqlType, TypeDesc};

/// A table declared with [`table!`](crate::table).
pub trait Table: Copy + Default + 'static {
    /// The declaration.
    fn meta() -> &'static TableMeta;
}

/// A column declared with [`table!`](crate::table): a unit type carrying its table and its SQL
/// type.
pub trait Column: Copy + Default + 'static {
    /// The table the column belongs to.
    type Table: Table;
    /// The column's SQL type marker.
    type SqlType: SqlType;
    /// The column's name in SQL.
    const NAME: &'static str;
}

/// A declared table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableMeta {
    /// The schema, when the declaration names one (`public.users`).
    pub schema: Option<&'static str>,
    /// The table's name in SQL (`#[sql_name]`, else the Rust name).
    pub name: &'static str,
    /// The module name in Rust.
    pub rust_name: &'static str,
    /// The primary key's columns (SQL names), in order.
    pub primary_key: &'static [&'static str],
    /// The columns, in declaration order.
    pub columns: &'static [ColumnMeta],
}

impl TableMeta {
    /// The column with SQL name `name`.
    pub fn column(&self, name: &str) -> Option<&'static ColumnMeta> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The table's name as SQL writes it, schema-qualified and quoted when needed.
    pub fn qualified_name(&self) -> String {
        match self.schema {
            Some(s) => format!(
                "{}.{}",
                crate::quote_ident(s),
                crate::quote_ident(self.name)
            ),
            None => crate::quote_ident(self.name),
        }
    }
}

/// A declared column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnMeta {
    /// The column's name in SQL (`#[sql_name]`, else the Rust name).
    pub name: &'static str,
    /// The column's name in Rust.
    pub rust_name: &'static str,
    /// Its type.
    pub sql_type: TypeDesc,
    /// `#[max_length = n]`, for `varchar(n)`.
    pub max_length: Option<u32>,
}

impl ColumnMeta {
    /// Whether the column may be NULL.
    pub fn nullable(&self) -> bool {
        self.sql_type.nullable
    }

    /// The column's type as SQL writes it: `varchar(255)`, `int4[]`, `timestamptz`.
    pub fn sql_type_text(&self) -> String {
        match (self.max_length, self.sql_type.array_dims) {
            (Some(n), dims) => {
                let mut s = format!("{}({n})", self.sql_type.name);
                for _ in 0..dims {
                    s.push_str("[]");
                }
                s
            }
            (None, _) => self.sql_type.sql(),
        }
    }
}
