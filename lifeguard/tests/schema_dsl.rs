//! `lifeguard::table!` reads a Diesel `schema.rs` (macro paths changed) and exposes each
//! declaration at run time; the declared types match what PostgreSQL creates.

mod common;

#[allow(dead_code)]
mod schema {
    include!("schemas/blog.rs");
}

use lifeguard::meta::{Column, Table};
use lifeguard::sql_types::SqlType;
use schema::{authors, comments, posts, tagging};

#[test]
fn declarations_are_readable_at_run_time() {
    let a = authors::table::meta();
    assert_eq!(
        (a.schema, a.name, a.rust_name),
        (None, "authors", "authors")
    );
    assert_eq!(a.primary_key, &["id"]);
    let names: Vec<_> = a.columns.iter().map(|c| c.name).collect();
    assert_eq!(names, ["id", "name", "email", "mood", "created_at"]);
    assert_eq!(a.column("name").unwrap().sql_type_text(), "varchar(120)");
    assert!(a.column("email").unwrap().nullable());
    assert!(!a.column("id").unwrap().nullable());
    assert_eq!(a.column("mood").unwrap().sql_type.name, "mood");

    let p = posts::table::meta();
    assert_eq!(p.schema, Some("blog"));
    assert_eq!(p.qualified_name(), "\"blog\".\"posts\"");
    assert_eq!(<posts::kind as Column>::NAME, "type");
    assert_eq!(p.column("type").unwrap().rust_name, "kind");
    assert_eq!(p.column("tags").unwrap().sql_type_text(), "text[]");
    assert_eq!(p.columns.len(), 19);

    let t = tagging::table::meta();
    assert_eq!(t.name, "post_tags");
    assert_eq!(t.rust_name, "tagging");
    assert_eq!(t.primary_key, &["post_id", "tag"]);
    // No `use` lines: Diesel's default `sql_types::*`; no key given: `id`.
    assert_eq!(comments::table::meta().primary_key, &["id"]);
    assert_eq!(<comments::id as Column>::SqlType::DESC.name, "int4");

    // Typed columns and rows.
    fn table_of<C: Column>(_: C) -> &'static str {
        C::Table::meta().name
    }
    assert_eq!(table_of(posts::author_id), "posts");
    let (_id, _name, _email, _mood, _at) = authors::all_columns;
    fn foreign_key<C: lifeguard::meta::JoinTo<P>, P: Table>() -> &'static str {
        <C::ForeignKey as Column>::NAME
    }
    assert_eq!(foreign_key::<posts::table, authors::table>(), "author_id");
    assert_eq!(foreign_key::<comments::table, posts::table>(), "post_id");
    assert_eq!(<authors::SqlType as RowArity>::N, 5);
}

trait RowArity {
    const N: usize;
}
impl<A, B, C, D, E> RowArity for (A, B, C, D, E) {
    const N: usize = 5;
}

#[test]
fn declared_types_match_the_server() {
    // Create the tables from the declarations and compare with what the catalog says.
    let (_db, client) = common::db();
    client
        .batch_execute("CREATE SCHEMA blog; CREATE TYPE mood AS ENUM ('happy', 'sad')")
        .unwrap();
    for t in [
        authors::table::meta(),
        posts::table::meta(),
        tagging::table::meta(),
        comments::table::meta(),
    ] {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{} {}{}",
                    lifeguard_schema::quote_ident(c.name),
                    c.sql_type_text(),
                    if c.nullable() { "" } else { " NOT NULL" }
                )
            })
            .collect();
        let pk: Vec<String> = t
            .primary_key
            .iter()
            .map(|c| lifeguard_schema::quote_ident(c))
            .collect();
        client
            .batch_execute(&format!(
                "CREATE TABLE {} ({}, PRIMARY KEY ({}))",
                t.qualified_name(),
                cols.join(", "),
                pk.join(", ")
            ))
            .unwrap();
        for c in t.columns {
            let row = client
                .query_one(
                    "SELECT format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
                       FROM pg_attribute a
                      WHERE a.attrelid = $1::text::regclass AND a.attname = $2",
                    &[&t.qualified_name(), &c.name],
                )
                .unwrap();
            let (ty, nullable): (String, bool) = (row.get(0), row.get(1));
            assert_eq!(nullable, c.nullable(), "{}.{}", t.name, c.name);
            let expected = match c.sql_type_text().as_str() {
                "int2" => "smallint".to_owned(),
                "int4" => "integer".to_owned(),
                "int8" => "bigint".to_owned(),
                "float4" => "real".to_owned(),
                "float8" => "double precision".to_owned(),
                "bool" => "boolean".to_owned(),
                "timestamptz" => "timestamp with time zone".to_owned(),
                "timestamp" => "timestamp without time zone".to_owned(),
                "time" => "time without time zone".to_owned(),
                "varchar(120)" => "character varying(120)".to_owned(),
                "varchar" => "character varying".to_owned(),
                other => other.to_owned(),
            };
            assert_eq!(ty, expected, "{}.{}", t.name, c.name);
        }
    }
}

#[allow(dead_code)]
mod shop_schema {
    include!("schemas/shop.rs");
}

#[test]
fn migration_extensions_are_in_the_metadata() {
    use lifeguard::meta::{Deferrable, FkAction, Identity};
    use shop_schema::{customers, order_lines, orders};

    let c = customers::table::meta();
    assert_eq!(c.renamed_from, Some("clients"));
    assert_eq!(c.docs, &[" Customers."]);
    assert_eq!(c.uniques.len(), 1);
    assert_eq!(c.uniques[0].name, Some("customers_tenant_email_key"));
    assert_eq!(c.uniques[0].columns, &["tenant_id", "email"]);
    assert_eq!(c.checks[0].expr, "length(name) > 0");
    assert_eq!(c.indexes[0].keys, &["lower(email)"]);
    assert_eq!(c.indexes[0].name, Some("customers_email_lower_idx"));
    let id = c.column("id").unwrap();
    assert_eq!(id.identity, Some(Identity::Always));
    assert_eq!(c.column("name").unwrap().docs, &[" Shown on invoices."]);
    assert!(c.column("email").unwrap().unique);
    assert_eq!(c.column("created_at").unwrap().default, Some("now()"));
    assert_eq!(c.column("remarks").unwrap().renamed_from, Some("notes"));

    let o = orders::table::meta();
    assert_eq!(o.column("id").unwrap().identity, Some(Identity::ByDefault));
    assert_eq!(o.column("total").unwrap().check, Some("total >= 0"));
    assert_eq!(o.column("gross").unwrap().generated, Some("total * qty"));
    assert_eq!(o.indexes.len(), 3);
    assert_eq!(o.indexes[0].keys, &["customer_id", "placed_at"]);
    assert_eq!(o.indexes[0].include, &["total"]);
    assert_eq!(o.indexes[1].method, Some("gin"));
    let open = o.indexes[2];
    assert!(open.unique);
    assert_eq!(open.predicate, Some("NOT cancelled"));
    assert_eq!(open.name, Some("orders_open_idx"));
    let fk = o.foreign_keys[0];
    assert_eq!(fk.name, Some("orders_customer_fk"));
    assert_eq!(
        (fk.columns, fk.ref_table, fk.ref_columns),
        (&["customer_id"][..], "customers", &["id"][..])
    );
    assert_eq!(fk.ref_schema, Some("shop"));
    assert_eq!(fk.on_delete, FkAction::Cascade);
    assert_eq!(fk.on_update, FkAction::NoAction);
    assert_eq!(fk.deferrable, Deferrable::InitiallyDeferred);
    let status = o.column("status").unwrap();
    assert_eq!(status.sql_type.name, "order_status");
    assert_eq!(
        status.sql_type.enum_labels,
        &["open", "shipped", "cancelled"]
    );
    assert_eq!(status.default, Some("'open'"));

    let l = order_lines::table::meta();
    let r = l.column("order_id").unwrap().references.unwrap();
    assert_eq!(
        (r.schema, r.table, r.column),
        (Some("shop"), "orders", "id")
    );
    assert_eq!(
        (r.on_delete, r.on_update),
        (FkAction::Cascade, FkAction::Restrict)
    );
    let own = l.column("parent_line").unwrap().references.unwrap();
    assert_eq!((own.table, own.column), ("order_lines", "line"));
    assert!(l.column("line").unwrap().references.is_none());
}

#[test]
fn the_file_parser_and_the_compiled_macros_agree() {
    use lifeguard_schema::model::TableDef;
    use lifeguard_schema::parser::parse_schema_file;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas");
    let compiled: Vec<(&str, Vec<TableDef>)> = vec![
        (
            "blog.rs",
            [
                authors::table::meta(),
                posts::table::meta(),
                tagging::table::meta(),
                comments::table::meta(),
            ]
            .into_iter()
            .map(TableDef::from)
            .collect(),
        ),
        (
            "shop.rs",
            [
                shop_schema::customers::table::meta(),
                shop_schema::orders::table::meta(),
                shop_schema::order_lines::table::meta(),
            ]
            .into_iter()
            .map(TableDef::from)
            .collect(),
        ),
    ];
    // Every schema file in the repository is covered.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["blog.rs", "shop.rs"]);
    for (file, tables) in compiled {
        let parsed = parse_schema_file(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed, tables, "{file}");
    }
}

#[test]
fn the_file_parser_points_at_what_it_cannot_read() {
    use lifeguard_schema::parser::parse_schema;
    let path = std::path::Path::new("schema.rs");
    let e = parse_schema(
        "lifeguard::table! {\n    t (id) {\n        id -> Int4,\n        x -> Strange,\n    }\n}\n",
        path,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (4, 14), "{e}");
    assert!(
        e.to_string()
            .starts_with("schema.rs:4:14: unknown SQL type `Strange`"),
        "{e}"
    );

    let e = parse_schema(
        "lifeguard::table! {\n    #[unique(id, nope)]\n    t (id) {\n        id -> Int4,\n    }\n}\n",
        path,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 18), "{e}");
    assert!(e.message.contains("no column `nope`"), "{e}");

    let e = parse_schema("lifeguard::table! { t (id) { id Int4 } }", path).unwrap_err();
    assert_eq!(e.line, 1, "{e}");
    assert!(e.message.contains("expected `->`"), "{e}");
}
