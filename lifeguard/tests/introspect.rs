//! Introspection against a real server: the example schemas are created with
//! `lifeguard_schema::ddl` in fresh databases and read back from `pg_catalog`; the catalog
//! holds what was declared, in PostgreSQL's normalized form, whatever the creation order or
//! spelling; a schema written in raw SQL is read correctly.

mod common;

#[allow(dead_code)]
mod blog {
    include!("schemas/blog.rs");
}

#[allow(dead_code)]
mod shop {
    include!("schemas/shop.rs");
}

use lifeguard::LifeExecutor;
use lifeguard::client::{Client, SqlState};
use lifeguard::introspect::introspect;
use lifeguard::meta::{Deferrable, FkAction, Identity, Table as _};
use lifeguard_schema::catalog::{Catalog, OwnedBy, Table};
use lifeguard_schema::ddl::{create_schema_sql, schema_ddl};
use lifeguard_schema::model::TableDef;

fn apply(client: &Client, statements: &[String]) {
    for s in statements {
        client
            .batch_execute(s)
            .unwrap_or_else(|e| panic!("{e}\nin: {s}"));
    }
}

/// shop.rs's tables.
fn shop_defs() -> Vec<TableDef> {
    vec![
        TableDef::from(shop::customers::table::meta()),
        TableDef::from(shop::orders::table::meta()),
        TableDef::from(shop::order_lines::table::meta()),
    ]
}

fn blog_defs() -> Vec<TableDef> {
    vec![
        TableDef::from(blog::authors::table::meta()),
        TableDef::from(blog::posts::table::meta()),
        TableDef::from(blog::tagging::table::meta()),
        TableDef::from(blog::comments::table::meta()),
    ]
}

/// blog.rs's `mood` is a `sql_type!` (no labels), so it must exist before the tables.
const BLOG_PRELUDE: &str = "CREATE TYPE mood AS ENUM ('happy', 'sad')";

fn table<'a>(c: &'a Catalog, schema: &str, name: &str) -> &'a Table {
    c.table(schema, name)
        .unwrap_or_else(|| panic!("no table {schema}.{name} in {c:#?}"))
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<&str> {
    items.iter().map(name).collect()
}

#[test]
fn the_shop_schema_reads_back_as_declared() {
    let (_db, client) = common::db();
    apply(&client, &create_schema_sql(&shop_defs()));
    let c = introspect(&client, &[]).unwrap();

    assert_eq!(c.schemas, ["public", "shop"]);
    assert_eq!(names(&c.extensions, |e| &e.name), ["plpgsql"]);
    assert_eq!(c.enums.len(), 1);
    let status = c.enum_type("public", "order_status").unwrap();
    assert_eq!(status.labels, ["open", "shipped", "cancelled"]);
    // Identity sequences belong to their columns.
    assert_eq!(c.sequences, []);
    assert_eq!(
        names(&c.tables, |t| &t.name),
        ["order_lines", "customers", "orders"],
        "sorted by (schema, name)"
    );

    let customers = table(&c, "shop", "customers");
    assert_eq!(customers.comment.as_deref(), Some("Customers."));
    assert_eq!(
        names(&customers.columns, |c| &c.name),
        ["id", "tenant_id", "name", "email", "created_at", "remarks"]
    );
    let id = customers.column("id").unwrap();
    assert_eq!(id.type_sql, "bigint");
    assert_eq!(id.identity, Some(Identity::Always));
    assert_eq!(id.default, None);
    assert!(!id.nullable);
    let name = customers.column("name").unwrap();
    assert_eq!(name.type_sql, "character varying(200)");
    assert_eq!(name.comment.as_deref(), Some("Shown on invoices."));
    let created = customers.column("created_at").unwrap();
    assert_eq!(created.type_sql, "timestamp with time zone");
    assert_eq!(created.default.as_deref(), Some("now()"));
    assert!(customers.column("remarks").unwrap().nullable);
    assert_eq!(customers.column("remarks").unwrap().collation, None);
    let pk = customers.primary_key.as_ref().unwrap();
    assert_eq!(
        (pk.name.as_str(), &pk.columns[..]),
        ("customers_pkey", &["id".to_owned()][..])
    );
    assert_eq!(
        names(&customers.uniques, |u| &u.name),
        ["customers_email_key", "customers_tenant_email_key"]
    );
    let multi = customers.unique("customers_tenant_email_key").unwrap();
    assert_eq!(multi.columns, ["tenant_id", "email"]);
    assert_eq!(multi.definition, "UNIQUE (tenant_id, email)");
    assert_eq!(multi.deferrable, Deferrable::No);
    let len = customers.check("customers_name_len").unwrap();
    assert_eq!(len.definition, "CHECK ((length((name)::text) > 0))");
    assert_eq!(len.expression, "(length((name)::text) > 0)");
    assert_eq!(len.columns, ["name"]);
    assert!(len.validated);
    let lower = customers.index("customers_email_lower_idx").unwrap();
    assert_eq!(lower.keys, ["lower(email)"]);
    assert_eq!(
        lower.definition,
        "CREATE INDEX customers_email_lower_idx ON shop.customers USING btree (lower(email))"
    );
    assert!(!lower.unique && !lower.is_constraint_backed && lower.valid);
    for backing in [
        "customers_pkey",
        "customers_email_key",
        "customers_tenant_email_key",
    ] {
        let ix = customers.index(backing).unwrap();
        assert!(ix.is_constraint_backed && ix.unique, "{backing}");
    }

    let orders = table(&c, "shop", "orders");
    let col = |n: &str| orders.column(n).unwrap();
    assert_eq!(col("id").identity, Some(Identity::ByDefault));
    assert_eq!(col("total").type_sql, "numeric");
    assert_eq!(col("qty").type_sql, "integer");
    assert_eq!(col("qty").default.as_deref(), Some("0"));
    assert_eq!(
        col("gross").generated.as_deref(),
        Some("(total * (qty)::numeric)")
    );
    assert_eq!(col("gross").default, None);
    assert_eq!(col("tags").type_sql, "text[]");
    assert_eq!(col("cancelled").type_sql, "boolean");
    assert_eq!(col("status").type_sql, "order_status");
    assert_eq!(
        col("status").default.as_deref(),
        Some("'open'::order_status")
    );
    let total_check = orders.check("orders_total_check").unwrap();
    assert_eq!(total_check.expression, "(total >= (0)::numeric)");
    assert_eq!(total_check.columns, ["total"]);
    assert_eq!(orders.foreign_keys.len(), 1);
    let fk = orders.foreign_key("orders_customer_fk").unwrap();
    assert_eq!(fk.columns, ["customer_id"]);
    assert_eq!(
        (fk.ref_schema.as_str(), fk.ref_table.as_str()),
        ("shop", "customers")
    );
    assert_eq!(fk.ref_columns, ["id"]);
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (FkAction::Cascade, FkAction::NoAction)
    );
    assert_eq!(fk.deferrable, Deferrable::InitiallyDeferred);
    assert!(fk.validated);
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (customer_id) REFERENCES shop.customers(id) ON DELETE CASCADE \
         DEFERRABLE INITIALLY DEFERRED"
    );
    assert_eq!(
        names(&orders.indexes, |i| &i.name),
        [
            "orders_customer_id_placed_at_total_idx",
            "orders_open_idx",
            "orders_pkey",
            "orders_tags_idx"
        ]
    );
    let covering = orders
        .index("orders_customer_id_placed_at_total_idx")
        .unwrap();
    assert_eq!(covering.keys, ["customer_id", "placed_at"]);
    assert_eq!(covering.include, ["total"]);
    assert_eq!(covering.method, "btree");
    let gin = orders.index("orders_tags_idx").unwrap();
    assert_eq!(
        (gin.method.as_str(), &gin.keys[..]),
        ("gin", &["tags".to_owned()][..])
    );
    let open = orders.index("orders_open_idx").unwrap();
    assert!(open.unique && !open.is_constraint_backed);
    assert_eq!(open.predicate.as_deref(), Some("(NOT cancelled)"));
    assert_eq!(
        open.definition,
        "CREATE UNIQUE INDEX orders_open_idx ON shop.orders USING btree (placed_at) \
         WHERE (NOT cancelled)"
    );

    let lines = table(&c, "public", "order_lines");
    assert_eq!(
        lines.primary_key.as_ref().unwrap().columns,
        ["order_id", "line"]
    );
    let to_orders = lines.foreign_key("order_lines_order_id_fkey").unwrap();
    assert_eq!(
        (to_orders.ref_schema.as_str(), to_orders.ref_table.as_str()),
        ("shop", "orders")
    );
    assert_eq!(
        (to_orders.on_delete, to_orders.on_update),
        (FkAction::Cascade, FkAction::Restrict)
    );
    let own = lines.foreign_key("order_lines_parent_line_fkey").unwrap();
    assert_eq!(
        (
            own.ref_schema.as_str(),
            own.ref_table.as_str(),
            &own.ref_columns[..]
        ),
        ("public", "order_lines", &["line".to_owned()][..])
    );
    assert_eq!(own.deferrable, Deferrable::No);
}

#[test]
fn the_blog_schema_reads_back_as_declared() {
    let (_db, client) = common::db();
    client.batch_execute(BLOG_PRELUDE).unwrap();
    let defs = blog_defs();
    apply(&client, &create_schema_sql(&defs));
    let c = introspect(&client, &[]).unwrap();

    assert_eq!(c.schemas, ["blog", "public"]);
    assert_eq!(
        c.enum_type("public", "mood").unwrap().labels,
        ["happy", "sad"]
    );
    assert_eq!(
        names(&c.tables, |t| &t.name),
        ["posts", "authors", "comments", "post_tags"]
    );
    let expected_type = |ty: &str| -> String {
        match ty {
            "int2" => "smallint".into(),
            "int4" => "integer".into(),
            "int8" => "bigint".into(),
            "float4" => "real".into(),
            "float8" => "double precision".into(),
            "bool" => "boolean".into(),
            "varchar" => "character varying".into(),
            "timestamptz" => "timestamp with time zone".into(),
            "timestamp" => "timestamp without time zone".into(),
            "time" => "time without time zone".into(),
            other => other.into(),
        }
    };
    for def in &defs {
        let t = table(&c, def.schema.as_deref().unwrap_or("public"), &def.name);
        assert_eq!(
            names(&t.columns, |c| &c.name),
            names(&def.columns, |c| &c.name),
            "{}",
            def.name
        );
        for d in &def.columns {
            let col = t.column(&d.name).unwrap();
            let mut ty = expected_type(&d.type_name);
            if let Some(n) = d.max_length {
                ty = format!("{ty}({n})");
            }
            ty.push_str(&"[]".repeat(d.array_dims as usize));
            assert_eq!(col.type_sql, ty, "{}.{}", def.name, d.name);
            assert_eq!(col.nullable, d.nullable, "{}.{}", def.name, d.name);
            assert_eq!((&col.default, col.identity), (&None, None));
        }
        assert_eq!(t.primary_key.as_ref().unwrap().columns, def.primary_key);
        assert_eq!(t.foreign_keys, [], "joinable! is not a foreign key");
    }
    assert_eq!(
        table(&c, "public", "authors")
            .column("name")
            .unwrap()
            .type_sql,
        "character varying(120)"
    );
    assert_eq!(
        table(&c, "blog", "posts").column("tags").unwrap().type_sql,
        "text[]"
    );
    assert_eq!(
        table(&c, "public", "authors").comment.as_deref(),
        Some("People who write.")
    );
    assert_eq!(
        table(&c, "public", "post_tags").comment.as_deref(),
        Some("A composite key.")
    );
    let posts = table(&c, "blog", "posts");
    assert_eq!(posts.comment, None);
    assert_eq!(
        posts.column("title").unwrap().comment.as_deref(),
        Some("The headline.")
    );
    assert_eq!(posts.column("type").unwrap().type_sql, "character varying");

    // Only the schemas asked for.
    let only_blog = introspect(&client, &["blog"]).unwrap();
    assert_eq!(only_blog.schemas, ["blog"]);
    assert_eq!(names(&only_blog.tables, |t| &t.name), ["posts"]);
    assert_eq!(only_blog.enums, []);
}

/// The same statements in another legal order: every phase reversed (so the tables, their
/// foreign keys and indexes are created last to first), comments and indexes before the
/// foreign keys.
fn reordered(defs: &[TableDef]) -> Vec<String> {
    let mut ddl = schema_ddl(defs);
    for phase in [
        &mut ddl.schemas,
        &mut ddl.types,
        &mut ddl.tables,
        &mut ddl.foreign_keys,
        &mut ddl.indexes,
        &mut ddl.comments,
    ] {
        phase.reverse();
    }
    let mut out = ddl.schemas;
    out.extend(ddl.types);
    out.extend(ddl.tables);
    out.extend(ddl.comments);
    out.extend(ddl.indexes);
    out.extend(ddl.foreign_keys);
    out
}

#[test]
fn creation_order_does_not_change_the_catalog() {
    for (name, prelude, defs) in [
        ("shop", None, shop_defs()),
        ("blog", Some(BLOG_PRELUDE), blog_defs()),
    ] {
        let forward = create_schema_sql(&defs);
        let backward = reordered(&defs);
        assert_ne!(forward, backward, "{name}: the orders differ");
        let mut catalogs = Vec::new();
        for statements in [forward, backward] {
            let (_db, client) = common::db();
            if let Some(p) = prelude {
                client.batch_execute(p).unwrap();
            }
            apply(&client, &statements);
            catalogs.push(introspect(&client, &[]).unwrap());
        }
        assert_eq!(catalogs[0], catalogs[1], "{name}");
    }
}

/// shop.rs written by hand in another style: other type
/// spellings, inline and implicit constraints, explicit `USING btree`, redundant casts and
/// parentheses, another statement order.
const SHOP_BY_HAND: &str = r#"
CREATE SCHEMA shop;
CREATE TYPE order_status AS ENUM ('open', 'shipped', 'cancelled');
CREATE TABLE shop.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL,
    name character varying(200) NOT NULL CONSTRAINT customers_name_len CHECK (length(name::text) > 0),
    email text NOT NULL UNIQUE,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    remarks text NULL,
    UNIQUE (tenant_id, email)
);
ALTER TABLE shop.customers RENAME CONSTRAINT customers_tenant_id_email_key TO customers_tenant_email_key;
COMMENT ON COLUMN shop.customers.name IS 'Shown on invoices.';
COMMENT ON TABLE shop.customers IS 'Customers.';
CREATE INDEX customers_email_lower_idx ON shop.customers USING btree (lower(email));
CREATE TABLE shop.orders (
    id int8 GENERATED BY DEFAULT AS IDENTITY,
    customer_id int8 NOT NULL CONSTRAINT orders_customer_fk REFERENCES shop.customers
        ON DELETE CASCADE ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED,
    total decimal NOT NULL,
    qty integer NOT NULL DEFAULT (0),
    gross numeric NOT NULL GENERATED ALWAYS AS ((total * qty)) STORED,
    tags text ARRAY NOT NULL,
    placed_at timestamptz NOT NULL,
    cancelled boolean NOT NULL,
    status order_status NOT NULL DEFAULT 'open'::order_status,
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CHECK (total >= 0)
);
CREATE UNIQUE INDEX orders_open_idx ON shop.orders (placed_at) WHERE (NOT cancelled);
CREATE INDEX orders_tags_idx ON shop.orders USING gin (tags);
CREATE INDEX ON shop.orders USING btree (customer_id, placed_at) INCLUDE (total);
CREATE TABLE public.order_lines (
    order_id bigint NOT NULL REFERENCES shop.orders (id) ON UPDATE RESTRICT ON DELETE CASCADE,
    line integer NOT NULL UNIQUE,
    parent_line integer REFERENCES order_lines (line),
    PRIMARY KEY (order_id, line)
);
"#;

#[test]
fn a_schema_written_in_another_style_gives_the_same_catalog() {
    let (_a, declared) = common::db();
    apply(&declared, &create_schema_sql(&shop_defs()));
    let (_b, by_hand) = common::db();
    by_hand.batch_execute(SHOP_BY_HAND).unwrap();
    assert_eq!(
        introspect(&declared, &[]).unwrap(),
        introspect(&by_hand, &[]).unwrap()
    );
}

const RAW: &str = r#"
CREATE EXTENSION citext;
CREATE SCHEMA app;
CREATE TYPE app.nothing AS ENUM ();
CREATE TYPE app.mood AS ENUM ('sad', 'ok');
ALTER TYPE app.mood ADD VALUE 'happy' BEFORE 'sad';
CREATE SEQUENCE app.invoice_no AS integer INCREMENT 10 MINVALUE 10 MAXVALUE 100000 START 1000 CACHE 5 CYCLE;
CREATE TABLE app.accounts (
    id serial PRIMARY KEY,
    doomed int,
    handle citext NOT NULL,
    code text COLLATE "C" NOT NULL,
    moods app.mood[],
    price numeric(10, 2) DEFAULT 0,
    CONSTRAINT accounts_handle_key UNIQUE (handle) DEFERRABLE INITIALLY IMMEDIATE
);
ALTER TABLE app.accounts DROP COLUMN doomed;
ALTER TABLE app.accounts ADD COLUMN added_later timestamp(3);
COMMENT ON COLUMN app.accounts.handle IS 'Login name.
Case-insensitive.';
CREATE TABLE app.sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id int,
    fallback_id int DEFAULT 1,
    during tstzrange,
    CONSTRAINT sessions_no_overlap EXCLUDE USING gist (during WITH &&)
);
ALTER TABLE app.sessions ADD CONSTRAINT sessions_account_fk FOREIGN KEY (account_id)
    REFERENCES app.accounts (id) ON DELETE SET NULL ON UPDATE CASCADE NOT VALID;
ALTER TABLE app.sessions ADD CONSTRAINT sessions_fallback_fk FOREIGN KEY (fallback_id)
    REFERENCES app.accounts (id) ON DELETE SET DEFAULT DEFERRABLE;
ALTER TABLE app.sessions ADD CONSTRAINT sessions_positive CHECK (account_id > 0) NOT VALID;
CREATE INDEX sessions_account_desc ON app.sessions (account_id DESC NULLS LAST);
CREATE INDEX accounts_code_pattern ON app.accounts (code text_pattern_ops);
CREATE TABLE app.lifeguard_migrations (version bigserial PRIMARY KEY);
CREATE TABLE public.elsewhere (id int);
INSERT INTO app.accounts (handle, code) VALUES ('a', 'x'), ('b', 'x');
"#;

#[test]
fn a_schema_built_from_raw_sql_is_read_correctly() {
    let (_db, mut client) = common::db();
    client.batch_execute(RAW).unwrap();
    // A failed concurrent build leaves an invalid index behind.
    let e = client
        .batch_execute(
            "CREATE UNIQUE INDEX CONCURRENTLY accounts_code_unique ON app.accounts (code)",
        )
        .unwrap_err();
    assert_eq!(e.code(), Some(SqlState::UNIQUE_VIOLATION), "{e}");

    let c = introspect(&client, &["app"]).unwrap();
    assert_eq!(c.schemas, ["app"]);
    assert_eq!(names(&c.extensions, |e| &e.name), ["citext", "plpgsql"]);
    assert_eq!(c.extension("citext").unwrap().schema, "public");
    assert_eq!(names(&c.enums, |e| &e.name), ["mood", "nothing"]);
    assert_eq!(
        c.enum_type("app", "mood").unwrap().labels,
        ["happy", "sad", "ok"]
    );
    assert_eq!(
        c.enum_type("app", "nothing").unwrap().labels,
        Vec::<String>::new()
    );
    // Not the identity's sequence, nor the migrations table's.
    assert_eq!(
        names(&c.sequences, |s| &s.name),
        ["accounts_id_seq", "invoice_no"]
    );
    let serial = c.sequence("app", "accounts_id_seq").unwrap();
    assert_eq!(
        serial.owned_by,
        Some(OwnedBy {
            schema: "app".into(),
            table: "accounts".into(),
            column: "id".into()
        })
    );
    assert_eq!(serial.data_type, "integer");
    let inv = c.sequence("app", "invoice_no").unwrap();
    assert_eq!(inv.owned_by, None);
    assert_eq!(
        (
            inv.data_type.as_str(),
            inv.start,
            inv.increment,
            inv.min,
            inv.max,
            inv.cache,
            inv.cycle
        ),
        ("integer", 1000, 10, 10, 100000, 5, true)
    );
    // Neither the migrations table nor a table in another schema.
    assert_eq!(names(&c.tables, |t| &t.name), ["accounts", "sessions"]);

    let accounts = table(&c, "app", "accounts");
    assert_eq!(
        names(&accounts.columns, |c| &c.name),
        ["id", "handle", "code", "moods", "price", "added_later"],
        "dropped columns are left out"
    );
    let col = |n: &str| accounts.column(n).unwrap();
    assert_eq!(col("id").type_sql, "integer");
    assert_eq!(
        col("id").default.as_deref(),
        Some("nextval('app.accounts_id_seq'::regclass)")
    );
    assert_eq!(col("handle").type_sql, "citext");
    assert_eq!(
        col("handle").comment.as_deref(),
        Some("Login name.\nCase-insensitive.")
    );
    assert_eq!(col("code").collation.as_deref(), Some("C"));
    assert_eq!(col("handle").collation, None);
    assert_eq!(col("moods").type_sql, "app.mood[]");
    assert!(col("moods").nullable);
    assert_eq!(col("price").type_sql, "numeric(10,2)");
    assert_eq!(col("price").default.as_deref(), Some("0"));
    assert_eq!(
        col("added_later").type_sql,
        "timestamp(3) without time zone"
    );
    let handle_key = accounts.unique("accounts_handle_key").unwrap();
    assert_eq!(handle_key.deferrable, Deferrable::InitiallyImmediate);
    assert_eq!(handle_key.definition, "UNIQUE (handle) DEFERRABLE");
    let pattern = accounts.index("accounts_code_pattern").unwrap();
    assert_eq!(pattern.keys, ["code"]);
    assert!(
        pattern.definition.ends_with("(code text_pattern_ops)"),
        "{}",
        pattern.definition
    );
    let invalid = accounts.index("accounts_code_unique").unwrap();
    assert!(!invalid.valid && invalid.unique && !invalid.is_constraint_backed);
    assert!(
        accounts
            .index("accounts_handle_key")
            .unwrap()
            .is_constraint_backed
    );

    let sessions = table(&c, "app", "sessions");
    assert_eq!(
        sessions.column("id").unwrap().identity,
        Some(Identity::Always)
    );
    assert_eq!(sessions.column("id").unwrap().default, None);
    let account_fk = sessions.foreign_key("sessions_account_fk").unwrap();
    assert!(!account_fk.validated);
    assert!(
        account_fk.definition.ends_with(" NOT VALID"),
        "{}",
        account_fk.definition
    );
    assert_eq!(
        (account_fk.on_delete, account_fk.on_update),
        (FkAction::SetNull, FkAction::Cascade)
    );
    let fallback_fk = sessions.foreign_key("sessions_fallback_fk").unwrap();
    assert_eq!(fallback_fk.on_delete, FkAction::SetDefault);
    assert_eq!(fallback_fk.deferrable, Deferrable::InitiallyImmediate);
    assert!(fallback_fk.validated);
    let positive = sessions.check("sessions_positive").unwrap();
    assert!(!positive.validated);
    assert_eq!(positive.definition, "CHECK ((account_id > 0)) NOT VALID");
    // The exclusion constraint is not modeled; its index is there, marked.
    assert_eq!(sessions.uniques, []);
    assert_eq!(names(&sessions.checks, |c| &c.name), ["sessions_positive"]);
    let overlap = sessions.index("sessions_no_overlap").unwrap();
    assert!(overlap.is_constraint_backed);
    assert_eq!(overlap.method, "gist");
    let desc = sessions.index("sessions_account_desc").unwrap();
    assert_eq!(desc.keys, ["account_id"]);
    assert!(desc.definition.ends_with("(account_id DESC NULLS LAST)"));

    // Every user schema when none is named; system schemas never.
    let all = introspect(&client, &[]).unwrap();
    assert_eq!(all.schemas, ["app", "public"]);
    assert!(all.table("public", "elsewhere").is_some());
    assert!(all.table("app", "lifeguard_migrations").is_none());
    let system = introspect(&client, &["pg_catalog", "information_schema"]).unwrap();
    assert_eq!(
        system,
        Catalog {
            extensions: all.extensions.clone(),
            ..Catalog::default()
        }
    );

    // Under an empty search_path every user type is schema-qualified.
    let tx = client.transaction().unwrap();
    tx.execute_unprepared("SET LOCAL search_path TO pg_catalog")
        .unwrap();
    let qualified = introspect(&tx, &["app"]).unwrap();
    tx.rollback().unwrap();
    let accounts = table(&qualified, "app", "accounts");
    assert_eq!(accounts.column("handle").unwrap().type_sql, "public.citext");
    assert_eq!(accounts.column("moods").unwrap().type_sql, "app.mood[]");
}
