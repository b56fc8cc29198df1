//! Introspection: reads a database's schema from `pg_catalog` into the
//! [`Catalog`] model, with PostgreSQL's own renderers
//! (`format_type`, `pg_get_expr`, `pg_get_indexdef`, `pg_get_constraintdef`), so that the
//! live database and the declarations applied to a scratch database
//! ([`lifeguard_schema::ddl`]) come out in the same normalized form (DESIGN.md, decision 5).
//!
//! One query per object kind (eight round trips, whatever the number of tables).
//!
//! Left out: system schemas (`pg_catalog`, `information_schema`, `pg_toast*`, `pg_temp*`),
//! objects that belong to an extension, the migrations tracking table
//! ([`MIGRATIONS_TABLE`], in any schema) with its sequences, and sequences owned by identity
//! columns. Not modeled yet: views, domains, composite types, functions, triggers,
//! exclusion constraints (their indexes do appear, marked constraint-backed), policies,
//! grants.
//!
//! Rendering depends on the session's `search_path` the way PostgreSQL's does: a type or a
//! cast in a default is schema-qualified only when its schema is not on the path
//! (`'open'::order_status` against `'open'::app.order_status`). Introspect both sides of a
//! comparison with the same `search_path` (the default, `"$user", public`, on both is
//! enough), or run it in a transaction after `SET LOCAL search_path TO pg_catalog` to have
//! every user type qualified.
//!
//! ```no_run
//! let client = lifeguard::connect("postgres://localhost/app")?;
//! let catalog = lifeguard::introspect::introspect(&client, &["public"])?;
//! for t in &catalog.tables {
//!     println!("{}.{}: {} columns", t.schema, t.name, t.columns.len());
//! }
//! # Ok::<(), lifeguard::Error>(())
//! ```

use std::collections::HashMap;

use lifeguard_schema::catalog::{
    Catalog, Check, Column, EnumType, Extension, ForeignKey, Index, OwnedBy, PrimaryKey, Sequence,
    Table, Unique,
};
use lifeguard_schema::meta::{Deferrable, FkAction, Identity};

use crate::client::{Error, Result};
use crate::executor::LifeExecutor;

/// The migration tracking table, never part of an introspected catalog.
pub const MIGRATIONS_TABLE: &str = "lifeguard_migrations";

/// Which namespaces are introspected: `$1` lists them, or is empty for every non-system
/// schema; system schemas are always excluded. `n` is the `pg_namespace` alias.
const NAMESPACE_FILTER: &str = "(cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[])) \
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Reads the schema of the database behind `db` into a [`Catalog`].
///
/// `schemas` names the schemas to read; empty means every schema except the system ones.
/// Extensions are database-wide and always listed in full. The result is in canonical order
/// ([`Catalog::sort`]).
pub fn introspect(db: &impl LifeExecutor, schemas: &[&str]) -> Result<Catalog> {
    let wanted: Vec<String> = schemas.iter().map(|s| (*s).to_owned()).collect();
    let mut catalog = Catalog {
        schemas: read_schemas(db, &wanted)?,
        extensions: read_extensions(db)?,
        enums: read_enums(db, &wanted)?,
        tables: Vec::new(),
        sequences: read_sequences(db, &wanted)?,
    };
    catalog.tables = read_tables(db, &wanted)?;
    catalog.sort();
    Ok(catalog)
}

fn read_schemas(db: &impl LifeExecutor, wanted: &[String]) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT n.nspname::text FROM pg_catalog.pg_namespace n \
         WHERE {NAMESPACE_FILTER} \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
             WHERE d.classid = 'pg_catalog.pg_namespace'::regclass AND d.objid = n.oid \
             AND d.deptype = 'e')"
    );
    let rows: Vec<(String,)> = db.query_as(&sql, &[&wanted])?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

fn read_extensions(db: &impl LifeExecutor) -> Result<Vec<Extension>> {
    let rows: Vec<(String, String, String)> = db.query_as(
        "SELECT e.extname::text, n.nspname::text, e.extversion \
         FROM pg_catalog.pg_extension e \
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|(name, schema, version)| Extension {
            name,
            schema,
            version,
        })
        .collect())
}

fn read_enums(db: &impl LifeExecutor, wanted: &[String]) -> Result<Vec<EnumType>> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, \
             coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
                 FILTER (WHERE e.oid IS NOT NULL), '{{}}') \
         FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid \
         WHERE t.typtype = 'e' AND {NAMESPACE_FILTER} \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
             WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid \
             AND d.deptype = 'e') \
         GROUP BY n.nspname, t.typname"
    );
    let rows: Vec<(String, String, Vec<String>)> = db.query_as(&sql, &[&wanted])?;
    Ok(rows
        .into_iter()
        .map(|(schema, name, labels)| EnumType {
            schema,
            name,
            labels,
        })
        .collect())
}

fn read_sequences(db: &impl LifeExecutor, wanted: &[String]) -> Result<Vec<Sequence>> {
    // A sequence depends on its owning column with deptype 'a' (OWNED BY, serial) or 'i'
    // (identity); identity sequences are part of their column and left out.
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, \
             on_.nspname::text, oc.relname::text, oa.attname::text, \
             pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
             s.seqmin, s.seqmax, s.seqcache, s.seqcycle \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid \
         LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass \
             AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass \
             AND d.deptype = 'a' \
         LEFT JOIN pg_catalog.pg_class oc ON oc.oid = d.refobjid \
         LEFT JOIN pg_catalog.pg_namespace on_ ON on_.oid = oc.relnamespace \
         LEFT JOIN pg_catalog.pg_attribute oa ON oa.attrelid = d.refobjid \
             AND oa.attnum = d.refobjsubid \
         WHERE c.relkind = 'S' AND {NAMESPACE_FILTER} \
         AND oc.relname IS DISTINCT FROM '{MIGRATIONS_TABLE}' \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x \
             WHERE x.classid = 'pg_catalog.pg_class'::regclass AND x.objid = c.oid \
             AND x.deptype IN ('i', 'e'))"
    );
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
        bool,
    );
    let rows: Vec<Row> = db.query_as(&sql, &[&wanted])?;
    Ok(rows
        .into_iter()
        .map(
            |(
                schema,
                name,
                o_schema,
                o_table,
                o_column,
                data_type,
                start,
                increment,
                min,
                max,
                cache,
                cycle,
            )| {
                let owned_by = match (o_schema, o_table, o_column) {
                    (Some(schema), Some(table), Some(column)) => Some(OwnedBy {
                        schema,
                        table,
                        column,
                    }),
                    _ => None,
                };
                Sequence {
                    schema,
                    name,
                    owned_by,
                    data_type,
                    start,
                    increment,
                    min,
                    max,
                    cache,
                    cycle,
                }
            },
        )
        .collect())
}

fn read_tables(db: &impl LifeExecutor, wanted: &[String]) -> Result<Vec<Table>> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, \
             pg_catalog.obj_description(c.oid, 'pg_class') \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {NAMESPACE_FILTER} \
         AND c.relname <> '{MIGRATIONS_TABLE}' \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid \
             AND d.deptype = 'e')"
    );
    let rows: Vec<(u32, String, String, Option<String>)> = db.query_as(&sql, &[&wanted])?;
    let oids: Vec<u32> = rows.iter().map(|r| r.0).collect();
    let mut tables: Vec<Table> = Vec::with_capacity(rows.len());
    let mut by_oid: HashMap<u32, usize> = HashMap::with_capacity(rows.len());
    for (oid, schema, name, comment) in rows {
        by_oid.insert(oid, tables.len());
        tables.push(Table {
            schema,
            name,
            comment,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
        });
    }
    if tables.is_empty() {
        return Ok(tables);
    }
    read_columns(db, &oids, &by_oid, &mut tables)?;
    read_constraints(db, &oids, &by_oid, &mut tables)?;
    read_indexes(db, &oids, &by_oid, &mut tables)?;
    Ok(tables)
}

fn table_mut<'a>(
    tables: &'a mut [Table],
    by_oid: &HashMap<u32, usize>,
    oid: u32,
) -> Result<&'a mut Table> {
    by_oid
        .get(&oid)
        .map(|&i| &mut tables[i])
        .ok_or_else(|| Error::Protocol(format!("catalog row for unknown table oid {oid}")))
}

fn read_columns(
    db: &impl LifeExecutor,
    oids: &[u32],
    by_oid: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let rows: Vec<ColumnRow> = db.query_as(
        "SELECT a.attrelid, a.attname::text, \
             pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
             CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END, \
             a.attidentity::text, \
             CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END, \
             CASE WHEN a.attcollation <> t.typcollation AND co.oid IS NOT NULL THEN \
                 CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname::text \
                 ELSE cn.nspname || '.' || co.collname END END, \
             pg_catalog.col_description(a.attrelid, a.attnum) \
         FROM pg_catalog.pg_attribute a \
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace \
         WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum",
        &[&oids],
    )?;
    for (oid, name, type_sql, nullable, default, identity, generated, collation, comment) in rows {
        let identity = match identity.as_str() {
            "" => None,
            "a" => Some(Identity::Always),
            "d" => Some(Identity::ByDefault),
            other => return Err(unexpected("attidentity", other)),
        };
        table_mut(tables, by_oid, oid)?.columns.push(Column {
            name,
            type_sql,
            nullable,
            default,
            identity,
            generated,
            collation,
            comment,
        });
    }
    Ok(())
}

type ColumnRow = (
    u32,
    String,
    String,
    bool,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The names of `key` columns of `rel`, in key order (`$key` is an `int2[]` expression).
fn attnames(rel: &str, key: &str) -> String {
    format!(
        "ARRAY(SELECT a.attname::text FROM unnest({key}) WITH ORDINALITY k(attnum, ord) \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.attnum \
         ORDER BY k.ord)"
    )
}

type ConstraintRow = (
    u32,
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    String,
    String,
    bool,
    bool,
    bool,
    Option<String>,
);

fn read_constraints(
    db: &impl LifeExecutor,
    oids: &[u32],
    by_oid: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let sql = format!(
        "SELECT co.conrelid, co.conname::text, co.contype::text, \
             pg_catalog.pg_get_constraintdef(co.oid), {}, \
             rn.nspname::text, rc.relname::text, {}, \
             co.confdeltype::text, co.confupdtype::text, \
             co.condeferrable, co.condeferred, co.convalidated, \
             pg_catalog.pg_get_expr(co.conbin, co.conrelid) \
         FROM pg_catalog.pg_constraint co \
         LEFT JOIN pg_catalog.pg_class rc ON rc.oid = co.confrelid \
         LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE co.conrelid = ANY($1::oid[]) AND co.contype IN ('p', 'u', 'c', 'f')",
        attnames("co.conrelid", "co.conkey"),
        attnames("co.confrelid", "co.confkey"),
    );
    let rows: Vec<ConstraintRow> = db.query_as(&sql, &[&oids])?;
    for row in rows {
        let (
            oid,
            name,
            kind,
            definition,
            columns,
            ref_schema,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
            deferrable,
            deferred,
            validated,
            expression,
        ) = row;
        let deferrable = match (deferrable, deferred) {
            (false, _) => Deferrable::No,
            (true, false) => Deferrable::InitiallyImmediate,
            (true, true) => Deferrable::InitiallyDeferred,
        };
        let table = table_mut(tables, by_oid, oid)?;
        match kind.as_str() {
            "p" => table.primary_key = Some(PrimaryKey { name, columns }),
            "u" => table.uniques.push(Unique {
                name,
                definition,
                columns,
                deferrable,
            }),
            "c" => table.checks.push(Check {
                name,
                definition,
                expression: expression.unwrap_or_default(),
                columns,
                validated,
            }),
            "f" => table.foreign_keys.push(ForeignKey {
                name,
                definition,
                columns,
                ref_schema: ref_schema.unwrap_or_default(),
                ref_table: ref_table.unwrap_or_default(),
                ref_columns,
                on_delete: fk_action(&on_delete)?,
                on_update: fk_action(&on_update)?,
                deferrable,
                validated,
            }),
            other => return Err(unexpected("contype", other)),
        }
    }
    Ok(())
}

fn fk_action(code: &str) -> Result<FkAction> {
    Ok(match code {
        "a" => FkAction::NoAction,
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        other => return Err(unexpected("foreign key action", other)),
    })
}

type IndexRow = (
    u32,
    String,
    String,
    bool,
    bool,
    String,
    Vec<String>,
    Vec<String>,
    Option<String>,
    bool,
);

fn read_indexes(
    db: &impl LifeExecutor,
    oids: &[u32],
    by_oid: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let rows: Vec<IndexRow> = db.query_as(
        "SELECT i.indrelid, ic.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid), \
             i.indisunique, \
             EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co \
                 WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid \
                 AND co.contype IN ('p', 'u', 'x')), \
             am.amname::text, \
             ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, false) \
                 FROM generate_series(1, i.indnkeyatts::int) k ORDER BY k), \
             ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, false) \
                 FROM generate_series(i.indnkeyatts::int + 1, i.indnatts::int) k ORDER BY k), \
             pg_catalog.pg_get_expr(i.indpred, i.indrelid), \
             i.indisvalid \
         FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_catalog.pg_am am ON am.oid = ic.relam \
         WHERE i.indrelid = ANY($1::oid[])",
        &[&oids],
    )?;
    for (
        oid,
        name,
        definition,
        unique,
        is_constraint_backed,
        method,
        keys,
        include,
        predicate,
        valid,
    ) in rows
    {
        table_mut(tables, by_oid, oid)?.indexes.push(Index {
            name,
            definition,
            unique,
            is_constraint_backed,
            method,
            keys,
            include,
            predicate,
            valid,
        });
    }
    Ok(())
}

fn unexpected(what: &str, value: &str) -> Error {
    Error::Protocol(format!("unexpected {what} {value:?} in pg_catalog"))
}
