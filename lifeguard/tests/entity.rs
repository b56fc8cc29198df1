//! The entity layer against a real server: models and records, every entity operation,
//! composite keys, NULLs, an enum, JSONB and timestamps, relations with eager loading (the
//! queries counted), hooks, validators, soft deletes, scopes, managers, transactions and the
//! cache seam.

// Eager loading returns nested vectors; that is what is checked.
#![allow(clippy::type_complexity)]

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;

use lifeguard::client::{Error, Result, Row, ToSql};
use lifeguard::entity::prelude::*;
use lifeguard::entity::{Deleted, EntityCache, HookError, ValidationErrors};
use lifeguard::executor::LifeExecutor;
use lifeguard::meta::TableMeta;
use lifeguard::query::dsl::*;
use lifeguard::testkit::TestPool;
use serde_json::json;

pub mod schema {
    lifeguard::sql_enum! {
        /// A user's role.
        pub enum Role = "role" { Admin = "admin", Member = "member" }
    }

    lifeguard::table! {
        use lifeguard::sql_types::*;
        use super::Role;

        #[timestamps(created_at, updated_at)]
        #[hooks]
        users (id) {
            #[identity]
            id -> Int4,
            #[max_length = 40]
            #[validate(length(min = 2), not_blank)]
            name -> Varchar,
            #[validate(email)]
            email -> Nullable<Text>,
            role -> Role,
            #[default = "'{}'"]
            prefs -> Jsonb,
            #[validate(range(min = 0, max = 150))]
            age -> Nullable<Int4>,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    lifeguard::table! {
        #[soft_delete(deleted_at)]
        posts (id) {
            #[identity]
            id -> Int4,
            #[references(users(id))]
            user_id -> Int4,
            title -> Text,
            body -> Nullable<Text>,
            deleted_at -> Nullable<Timestamptz>,
        }

        comments (id) {
            #[identity]
            id -> Int4,
            post_id -> Int4,
            text -> Text,
        }

        tags (id) {
            #[identity]
            id -> Int4,
            name -> Text,
        }

        post_tags (post_id, tag_id) {
            #[references(posts(id))]
            post_id -> Int4,
            #[references(tags(id))]
            tag_id -> Int4,
        }

        profiles (user_id) {
            #[references(users(id))]
            user_id -> Int4,
            bio -> Text,
        }

        memberships (org, member) {
            org -> Text,
            member -> Int8,
            level -> Int2,
            note -> Nullable<Text>,
        }
    }

    // Columns named like the locals of generated code.
    lifeguard::table! {
        settings (key) {
            key -> Text,
            value -> Nullable<Text>,
            out -> Int4,
            i -> Int4,
            v -> Int4,
            model -> Text,
            r -> Int4,
            errors -> Int4,
            map -> Jsonb,
            slots -> Int4,
            st -> Int4,
            f -> Int4,
            serializer -> Text,
            deserializer -> Text,
            #[max_length = 3]
            codes -> Array<Nullable<Varchar>>,
        }
    }

    lifeguard::sql_type!(
        /// A type the entity layer reads as its text only if it is text-like.
        Money = "numeric"
    );

    lifeguard::table! {
        use lifeguard::sql_types::*;
        use super::Money;

        prices (id) {
            id -> Int4,
            amount -> Nullable<Money>,
        }
    }

    lifeguard::table! {
        #[timestamps(created_at, updated_at)]
        #[soft_delete(gone_at)]
        accounts (id) {
            #[identity = "always"]
            id -> Int8,
            name -> Text,
            #[generated = "length(name)"]
            name_len -> Int4,
            #[references(accounts(id))]
            parent_id -> Nullable<Int8>,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
            gone_at -> Nullable<Timestamptz>,
        }
    }

    lifeguard::joinable!(comments -> posts (post_id));

    lifeguard::partial_model! {
        #[derive(Debug, Clone, PartialEq)]
        pub struct UserName for users { id, name }
    }
}

use schema::*;

impl Hooks for users::Record {
    fn before_insert(&mut self) -> std::result::Result<(), HookError> {
        if let Some(name) = self.name.get() {
            if name == "forbidden" {
                return Err("that name is not allowed".into());
            }
            let trimmed = name.trim().to_string();
            self.name.set(trimmed);
        }
        Ok(())
    }

    fn after_update(&self, model: &users::Model) -> std::result::Result<(), HookError> {
        if model.name == "after-fail" {
            return Err("after_update refuses".into());
        }
        Ok(())
    }

    fn before_delete(&self) -> std::result::Result<(), HookError> {
        if self.role.get() == Some(&Role::Admin) {
            return Err("admins cannot be deleted".into());
        }
        Ok(())
    }

    fn validate(&self, errors: &mut ValidationErrors) {
        if self.role.get() == Some(&Role::Admin) && self.email.get().is_some_and(|e| e.is_none()) {
            errors.add("", "an admin needs an email");
        }
    }
}

/// A manager: the table's own queries, next to it.
impl users::table {
    pub fn by_email(db: &impl LifeExecutor, email: &str) -> Result<Option<users::Model>> {
        users::Entity::find()
            .filter(users::email.eq(email.to_string()))
            .one(db)
    }
}

/// A named scope.
fn adults(q: lifeguard::entity::Find<users::table>) -> lifeguard::entity::Find<users::table> {
    q.filter(users::age.ge(18))
}

const DDL: &str = "
    CREATE TYPE role AS ENUM ('admin', 'member');
    CREATE TABLE users (id int4 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name varchar(40) NOT NULL, email text, role role NOT NULL,
        prefs jsonb NOT NULL DEFAULT '{}', age int4,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE posts (id int4 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id int4 NOT NULL REFERENCES users(id), title text NOT NULL, body text,
        deleted_at timestamptz);
    CREATE TABLE comments (id int4 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        post_id int4 NOT NULL REFERENCES posts(id), text text NOT NULL);
    CREATE TABLE tags (id int4 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE);
    CREATE TABLE post_tags (post_id int4 NOT NULL REFERENCES posts(id),
        tag_id int4 NOT NULL REFERENCES tags(id), PRIMARY KEY (post_id, tag_id));
    CREATE TABLE profiles (user_id int4 PRIMARY KEY REFERENCES users(id), bio text NOT NULL);
    CREATE TABLE memberships (org text NOT NULL, member int8 NOT NULL, level int2 NOT NULL,
        note text, PRIMARY KEY (org, member));
    CREATE TABLE settings (key text PRIMARY KEY, value text, out int4 NOT NULL, i int4 NOT NULL,
        v int4 NOT NULL, model text NOT NULL, r int4 NOT NULL, errors int4 NOT NULL,
        map jsonb NOT NULL, slots int4 NOT NULL, st int4 NOT NULL, f int4 NOT NULL,
        serializer text NOT NULL, deserializer text NOT NULL, codes varchar(3)[] NOT NULL);
    CREATE TABLE accounts (id int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
        name_len int4 GENERATED ALWAYS AS (length(name)) STORED,
        parent_id int8 REFERENCES accounts(id),
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, gone_at timestamptz);
    CREATE TABLE prices (id int4 PRIMARY KEY, amount numeric(10,2));
";

fn setup() -> TestPool {
    let tp = TestPool::new().expect("a test pool");
    tp.pool().execute_unprepared(DDL).expect("schema");
    tp
}

/// Counts the statements sent through it.
struct Counting<'a, E> {
    inner: &'a E,
    sent: Cell<usize>,
}

impl<'a, E: LifeExecutor> Counting<'a, E> {
    fn new(inner: &'a E) -> Self {
        Counting {
            inner,
            sent: Cell::new(0),
        }
    }
    fn sent(&self) -> usize {
        self.sent.get()
    }
}

impl<E: LifeExecutor> LifeExecutor for Counting<'_, E> {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.sent.set(self.sent.get() + 1);
        self.inner.query(sql, params)
    }
    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.sent.set(self.sent.get() + 1);
        self.inner.execute(sql, params)
    }
    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.sent.set(self.sent.get() + 1);
        self.inner.execute_unprepared(sql)
    }
}

fn user(name: &str, email: Option<&str>, age: Option<i32>) -> users::Record {
    let mut r = users::Record::new();
    r.name.set(name);
    r.email.set(email.map(str::to_string));
    r.role.set(Role::Member);
    r.age.set(age);
    r
}

#[test]
fn insert_find_update_save_delete_a_record() {
    let tp = setup();
    let db = tp.pool();
    let mut rec = user("  ann ", Some("ann@example.com"), None);
    rec.prefs.set(json!({"theme": "dark", "n": [1, 2]}));
    let ann = rec.insert(db).unwrap();
    assert!(ann.id > 0);
    assert_eq!(ann.name, "ann", "before_insert trimmed the name");
    assert_eq!(ann.age, None);
    assert_eq!(ann.role, Role::Member);
    assert_eq!(ann.prefs, json!({"theme": "dark", "n": [1, 2]}));
    assert_eq!(
        ann.created_at, ann.updated_at,
        "both timestamps set on insert"
    );
    // The record now holds the stored row, unchanged.
    assert!(!rec.is_changed());
    assert_eq!(rec.id.get(), Some(&ann.id));

    // A default fills an unset column.
    let bob = user("bob", None, Some(30)).insert(db).unwrap();
    assert_eq!(bob.prefs, json!({}));
    assert_eq!(bob.email, None);

    let found = users::Entity::find_by_id(ann.id).one(db).unwrap();
    assert_eq!(found.as_ref(), Some(&ann));
    assert_eq!(users::Entity::find_by_id(9999).one(db).unwrap(), None);

    // Update sends only the set fields and bumps updated_at.
    let mut edit = users::Record::from_model(ann.clone());
    edit.age.set(Some(41));
    let counting = Counting::new(db);
    let updated = edit.update(&counting).unwrap().expect("a change was sent");
    assert_eq!(counting.sent(), 1);
    assert_eq!(updated.age, Some(41));
    assert_eq!(updated.name, "ann");
    assert_eq!(updated.created_at, ann.created_at);
    assert!(updated.updated_at > ann.updated_at);

    // No changed field: nothing is sent at all.
    let mut same = users::Record::from_model(updated.clone());
    let counting = Counting::new(db);
    assert_eq!(same.update(&counting).unwrap(), None);
    assert_eq!(counting.sent(), 0, "an unchanged record sends nothing");

    // Setting a field back to NULL.
    let mut clear = updated.clone().into_record();
    clear.age.set(None);
    assert_eq!(clear.update(db).unwrap().unwrap().age, None);

    // An update of a row that is not there is an error, not a silent no-op.
    let mut ghost = users::Record::new();
    ghost.id.set(4242);
    ghost.name.set("ghost");
    let err = ghost.update(db).unwrap_err();
    assert!(
        matches!(err, Error::RecordNotFound { table: "users", .. }),
        "{err}"
    );
    // An update without the key says so.
    let mut keyless = users::Record::new();
    keyless.name.set("x");
    let err = keyless.update(db).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingKey {
                operation: "update",
                ..
            }
        ),
        "{err}"
    );

    // save: a record without a key is inserted; with a key, upserted atomically.
    let mut cid = user("cid", None, Some(20));
    let cid_row = cid.save(db).unwrap();
    cid.age.set(Some(21));
    let cid_row2 = cid.save(db).unwrap();
    assert_eq!(cid_row2.id, cid_row.id);
    assert_eq!(cid_row2.age, Some(21));
    assert_eq!(users::Entity::find().count(db).unwrap(), 3);

    // delete by key.
    let n = users::Record::from_model(cid_row2).delete(db).unwrap();
    assert_eq!(n, 1);
    assert_eq!(users::Entity::find().count(db).unwrap(), 2);
    assert!(
        users::Entity::find_by_id(cid_row.id)
            .one(db)
            .unwrap()
            .is_none()
    );
}

#[test]
fn composite_keys_find_save_update_delete() {
    let tp = setup();
    let db = tp.pool();
    let mut m = memberships::Record::new();
    m.org.set("acme");
    m.member.set(7i64);
    m.level.set(1i16);
    let saved = m.save(db).unwrap();
    assert_eq!(saved.note, None);
    let key = ("acme".to_string(), 7i64);
    let found = memberships::Entity::find_by_id(key.clone())
        .one(db)
        .unwrap()
        .unwrap();
    assert_eq!(found, saved);

    // The same key saved again updates (ON CONFLICT on both key columns).
    let mut again = memberships::Record::new();
    again.org.set("acme");
    again.member.set(7i64);
    again.level.set(3i16);
    again.note.set(Some("promoted".to_string()));
    let up = again.save(db).unwrap();
    assert_eq!((up.level, up.note.as_deref()), (3, Some("promoted")));
    assert_eq!(memberships::Entity::find().count(db).unwrap(), 1);

    // Another member of the same org is another row.
    let mut other = memberships::Record::new();
    other.org.set("acme");
    other.member.set(8i64);
    other.level.set(1i16);
    other.insert(db).unwrap();

    let mut edit = up.into_record();
    edit.level.set(9i16);
    assert_eq!(edit.update(db).unwrap().unwrap().level, 9);
    let eight = memberships::Entity::find_by_id(("acme".to_string(), 8i64))
        .one(db)
        .unwrap()
        .unwrap();
    assert_eq!(eight.level, 1, "the update touched only its own key");
    assert_eq!(edit.delete(db).unwrap(), 1);
    assert!(
        memberships::Entity::find_by_id(key)
            .one(db)
            .unwrap()
            .is_none()
    );
    assert_eq!(memberships::Entity::find().count(db).unwrap(), 1);
}

#[test]
fn find_filter_order_one_exactly_one_count_exists_scopes_and_managers() {
    let tp = setup();
    let db = tp.pool();
    for (name, email, age) in [
        ("ann", Some("ann@example.com"), Some(30)),
        ("bob", None, Some(12)),
        ("cid", Some("cid@example.com"), None),
        ("dee", Some("dee@example.com"), Some(50)),
    ] {
        user(name, email, age).insert(db).unwrap();
    }
    let with_email = users::Entity::find()
        .filter(users::email.is_not_null())
        .order_by(users::name.desc())
        .all(db)
        .unwrap();
    let names: Vec<&str> = with_email.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["dee", "cid", "ann"]);

    // `one` is the first row by the order; `exactly_one` refuses several rows or none.
    let first = users::Entity::find()
        .order_by(users::age.desc().nulls_last())
        .one(db)
        .unwrap()
        .unwrap();
    assert_eq!(first.name, "dee");
    let err = users::Entity::find().exactly_one(db).unwrap_err();
    assert!(matches!(err, Error::RowCount { actual: 2, .. }), "{err}");
    let err = users::Entity::find()
        .filter(users::name.eq("nobody"))
        .exactly_one(db)
        .unwrap_err();
    assert!(matches!(err, Error::RowCount { actual: 0, .. }), "{err}");
    let bob = users::Entity::find()
        .filter(users::name.eq("bob"))
        .exactly_one(db)
        .unwrap();
    assert_eq!(bob.email, None);

    assert_eq!(users::Entity::find().count(db).unwrap(), 4);
    assert!(
        users::Entity::find()
            .filter(users::age.gt(40))
            .exists(db)
            .unwrap()
    );
    assert!(
        !users::Entity::find()
            .filter(users::age.gt(90))
            .exists(db)
            .unwrap()
    );

    // A named scope and an OR.
    let adults_or_cid = users::Entity::find()
        .scope(adults)
        .or_filter(users::name.eq("cid"))
        .order_by(users::name)
        .all(db)
        .unwrap();
    let names: Vec<&str> = adults_or_cid.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["ann", "cid", "dee"]);

    // A manager method.
    let dee = users::table::by_email(db, "dee@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(dee.age, Some(50));

    // Partial models select only their columns.
    let partial: Vec<UserName> = users::Entity::find()
        .order_by(users::id)
        .select_partial::<UserName>()
        .all(db)
        .unwrap();
    assert_eq!(partial.len(), 4);
    assert_eq!(partial[1].name, "bob");

    // The entity query hands over to the full query builder.
    let ages: Vec<Option<i32>> = users::Entity::find()
        .order_by(users::id)
        .into_query()
        .select(users::age)
        .load(db)
        .unwrap();
    assert_eq!(ages, [Some(30), Some(12), None, Some(50)]);
}

#[test]
fn offset_and_keyset_pagination() {
    let tp = setup();
    let db = tp.pool();
    let rows: Vec<users::Record> = (1..=25)
        .map(|i| user(&format!("user{i:02}"), None, Some(i)))
        .collect();
    let inserted = users::Entity::insert_many(rows).exec(db).unwrap();
    assert_eq!(inserted.len(), 25);

    let pages = users::Entity::find().paginate(db, 10);
    assert_eq!(pages.num_items().unwrap(), 25);
    assert_eq!(pages.num_pages().unwrap(), 3);
    let p0 = pages.fetch_page(0).unwrap();
    let p2 = pages.fetch_page(2).unwrap();
    assert_eq!(p0.len(), 10);
    assert_eq!(
        p0[0].name, "user01",
        "unordered queries page by primary key"
    );
    assert_eq!(p2.len(), 5);
    assert_eq!(p2[4].name, "user25");
    assert!(pages.fetch_page(3).unwrap().is_empty());

    let (page, total) = users::Entity::find()
        .filter(users::age.gt(5))
        .order_by(users::age.desc())
        .paginate_and_count(db, 7, 1)
        .unwrap();
    assert_eq!(total, 20);
    let ages: Vec<i32> = page.iter().map(|u| u.age.unwrap()).collect();
    assert_eq!(ages, [18, 17, 16, 15, 14, 13, 12]);
    assert_eq!(
        users::Entity::find().paginate(db, 10).num_pages().unwrap(),
        3
    );
    assert_eq!(
        users::Entity::find()
            .filter(users::age.gt(100))
            .paginate(db, 10)
            .num_pages()
            .unwrap(),
        0
    );

    // Keyset: after a key, the first n; before a key, the last n (still ascending).
    let ids: Vec<i32> = inserted.iter().map(|u| u.id).collect();
    let next = users::Entity::find()
        .cursor_by(users::id)
        .after(ids[9])
        .first(5)
        .all(db)
        .unwrap();
    assert_eq!(next.iter().map(|u| u.id).collect::<Vec<_>>(), ids[10..15]);
    let prev = users::Entity::find()
        .cursor_by(users::id)
        .before(ids[10])
        .last(3)
        .all(db)
        .unwrap();
    assert_eq!(prev.iter().map(|u| u.id).collect::<Vec<_>>(), ids[7..10]);
    let filtered = users::Entity::find()
        .filter(users::age.le(3))
        .cursor_by(users::id)
        .first(10)
        .all(db)
        .unwrap();
    assert_eq!(filtered.len(), 3);
}

#[test]
fn insert_many_update_many_delete_many() {
    let tp = setup();
    let db = tp.pool();
    let none: Vec<users::Record> = Vec::new();
    let counting = Counting::new(db);
    assert!(
        users::Entity::insert_many(none)
            .exec(&counting)
            .unwrap()
            .is_empty()
    );
    assert_eq!(counting.sent(), 0, "an empty batch sends nothing");

    // Rows setting different columns: the missing ones take their defaults.
    let mut a = user("ann", Some("ann@example.com"), Some(20));
    a.prefs.set(json!({"a": 1}));
    let b = user("bob", None, None);
    let rows = users::Entity::insert_many([a, b]).exec(db).unwrap();
    assert_eq!(rows[0].prefs, json!({"a": 1}));
    assert_eq!(rows[1].prefs, json!({}));

    // Without reading the rows back: the count, and the before hook still runs.
    let n = users::Entity::insert_many([user(" carla ", None, None)])
        .exec_without_returning(db)
        .unwrap();
    assert_eq!(n, 1);
    let carla = users::Entity::find()
        .filter(users::name.eq("carla"))
        .exactly_one(db)
        .unwrap();
    assert_eq!(carla.prefs, json!({}));
    assert!(
        users::Entity::insert_many([user("x", None, None)])
            .exec_without_returning(db)
            .is_err(),
        "validation still runs"
    );
    users::Record::from_model(carla).delete(db).unwrap();

    let n = users::Entity::update_many()
        .set(users::age.eq(99))
        .filter(users::email.is_null())
        .exec(db)
        .unwrap();
    assert_eq!(n, 1);
    let bob = users::Entity::find_by_id(rows[1].id)
        .one(db)
        .unwrap()
        .unwrap();
    assert_eq!(bob.age, Some(99));
    assert!(
        bob.updated_at > rows[1].updated_at,
        "update_many manages updated_at"
    );

    let n = users::Entity::delete_many()
        .filter(users::age.eq(99))
        .exec(db)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(users::Entity::find().count(db).unwrap(), 1);
}

#[test]
fn models_serialize_and_deserialize() {
    let tp = setup();
    let db = tp.pool();
    let mut rec = user("ann", Some("ann@example.com"), None);
    rec.role.set(Role::Admin);
    rec.prefs.set(json!({"k": [true, null]}));
    let ann = rec.insert(db).unwrap();
    let text = serde_json::to_string(&ann).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["role"], "admin");
    assert_eq!(value["age"], serde_json::Value::Null);
    assert_eq!(value["prefs"], json!({"k": [true, null]}));
    let back: users::Model = serde_json::from_str(&text).unwrap();
    assert_eq!(back, ann);

    // A missing nullable column reads as NULL; a missing required one is an error.
    let mut partial = value.clone();
    partial.as_object_mut().unwrap().remove("age");
    let back: users::Model = serde_json::from_value(partial).unwrap();
    assert_eq!(back.age, None);
    let mut broken = value;
    broken.as_object_mut().unwrap().remove("name");
    let err = serde_json::from_value::<users::Model>(broken).unwrap_err();
    assert!(err.to_string().contains("missing field `name`"), "{err}");
}

/// 100 users × 10 posts × 10 comments.
fn seed_blog(db: &impl LifeExecutor) {
    db.execute_unprepared(
        "INSERT INTO users (name, role, created_at, updated_at)
             SELECT 'user' || g, 'member', now(), now() FROM generate_series(1, 100) g;
         INSERT INTO posts (user_id, title)
             SELECT u, 'post ' || u || '.' || p FROM generate_series(1, 100) u, generate_series(1, 10) p
             ORDER BY u, p;
         INSERT INTO comments (post_id, text)
             SELECT p, 'comment ' || p || '.' || c FROM generate_series(1, 1000) p, generate_series(1, 10) c
             ORDER BY p, c;",
    )
    .unwrap();
}

#[test]
fn eager_loading_three_levels_is_three_queries() {
    let tp = setup();
    let db = tp.pool();
    seed_blog(db);
    let counting = Counting::new(db);
    let users = users::Entity::find()
        .order_by(users::id)
        .all(&counting)
        .unwrap();
    let posts = users.load_many(posts::user_id, &counting).unwrap();
    let comments = posts.load_many(comments::table, &counting).unwrap();
    assert_eq!(counting.sent(), 3, "one query per level, never one per row");

    assert_eq!(users.len(), 100);
    assert_eq!(posts.len(), 100);
    assert_eq!(comments.len(), 100);
    for ((u, ps), cs) in users.iter().zip(&posts).zip(&comments) {
        assert_eq!(ps.len(), 10);
        assert_eq!(cs.len(), 10);
        for (p, c) in ps.iter().zip(cs) {
            assert_eq!(p.user_id, u.id);
            assert_eq!(c.len(), 10);
            assert!(c.iter().all(|c| c.post_id == p.id));
        }
    }
    assert_eq!(
        comments[41][3][7].text,
        format!("comment {}.8", posts[41][3].id)
    );

    // belongs-to, nested: each comment's post, one query.
    let counting = Counting::new(db);
    let parents = comments[0].load_one(posts::table, &counting).unwrap();
    assert_eq!(counting.sent(), 1);
    assert_eq!(parents[2][0].as_ref().unwrap().id, posts[0][2].id);

    // Children refined: only some posts, ordered.
    let some = users[..3]
        .load_many_with(
            posts::user_id,
            posts::Entity::find()
                .filter(posts::title.like("%.1"))
                .order_by(posts::id.desc()),
            db,
        )
        .unwrap();
    assert_eq!(some.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
    // No parents, no query.
    let counting = Counting::new(db);
    let empty: Vec<users::Model> = Vec::new();
    assert!(
        empty
            .load_many(posts::user_id, &counting)
            .unwrap()
            .is_empty()
    );
    assert_eq!(counting.sent(), 0);
}

#[test]
fn lazy_relations_many_to_many_has_one_and_left_join() {
    let tp = setup();
    let db = tp.pool();
    let ann = user("ann", Some("ann@example.com"), None)
        .insert(db)
        .unwrap();
    let bob = user("bob", None, None).insert(db).unwrap();
    let mut posts_of_ann = Vec::new();
    for title in ["one", "two"] {
        let mut p = posts::Record::new();
        p.user_id.set(ann.id);
        p.title.set(title);
        posts_of_ann.push(p.insert(db).unwrap());
    }
    let mut tag_ids = Vec::new();
    for name in ["rust", "sql", "may"] {
        let mut t = tags::Record::new();
        t.name.set(name);
        tag_ids.push(t.insert(db).unwrap().id);
    }
    for (p, t) in [(0, 0), (0, 1), (1, 1), (1, 2)] {
        let mut pt = post_tags::Record::new();
        pt.post_id.set(posts_of_ann[p].id);
        pt.tag_id.set(tag_ids[t]);
        pt.insert(db).unwrap();
    }
    let mut c = comments::Record::new();
    c.post_id.set(posts_of_ann[0].id);
    c.text.set("first!");
    let comment = c.insert(db).unwrap();
    let mut prof = profiles::Record::new();
    prof.user_id.set(ann.id);
    prof.bio.set("writes things");
    prof.insert(db).unwrap();

    // has-many and belongs-to, lazily.
    let ps = ann
        .children(posts::user_id)
        .order_by(posts::id)
        .all(db)
        .unwrap();
    assert_eq!(ps, posts_of_ann);
    assert!(bob.children(posts::user_id).all(db).unwrap().is_empty());
    let author = ps[1].parent(posts::user_id).one(db).unwrap().unwrap();
    assert_eq!(author.id, ann.id);
    // has-one.
    let profile = ann.children(profiles::user_id).one(db).unwrap().unwrap();
    assert_eq!(profile.bio, "writes things");
    assert!(bob.children(profiles::user_id).one(db).unwrap().is_none());
    // Through a joinable!, both ways.
    let post = comment.find_related(posts::table).one(db).unwrap().unwrap();
    assert_eq!(post.id, posts_of_ann[0].id);
    let cs = post.find_related(comments::table).all(db).unwrap();
    assert_eq!(cs, std::slice::from_ref(&comment));
    // A joinable! relation is named by the other table in children/parent too.
    assert_eq!(
        post.children(comments::table).all(db).unwrap(),
        std::slice::from_ref(&comment)
    );
    assert_eq!(
        comment.parent(posts::table).one(db).unwrap().unwrap().id,
        post.id
    );

    // Many-to-many, lazily and eagerly.
    let tags_of_first = ps[0]
        .linked(post_tags::post_id, post_tags::tag_id)
        .order_by(tags::name)
        .all(db)
        .unwrap();
    let names: Vec<&str> = tags_of_first.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["rust", "sql"]);
    let counting = Counting::new(db);
    let tags_by_post = ps
        .load_many_to_many(post_tags::post_id, post_tags::tag_id, &counting)
        .unwrap();
    assert_eq!(counting.sent(), 1);
    let mut second: Vec<&str> = tags_by_post[1].iter().map(|t| t.name.as_str()).collect();
    second.sort_unstable();
    assert_eq!(second, ["may", "sql"]);
    let posts_by_tag = {
        let all_tags = tags::Entity::find().order_by(tags::id).all(db).unwrap();
        all_tags
            .load_many_to_many(post_tags::tag_id, post_tags::post_id, db)
            .unwrap()
    };
    assert_eq!(
        posts_by_tag.iter().map(Vec::len).collect::<Vec<_>>(),
        [1, 2, 1]
    );

    // Each user with each of their posts, in one LEFT JOIN; bob once, with none.
    let pairs = users::Entity::find()
        .also_related(posts::user_id)
        .all(db)
        .unwrap();
    assert_eq!(pairs.len(), 3);
    let bobs: Vec<_> = pairs.iter().filter(|(u, _)| u.id == bob.id).collect();
    assert_eq!(bobs.len(), 1);
    assert!(bobs[0].1.is_none());
    assert!(
        pairs
            .iter()
            .filter(|(u, _)| u.id == ann.id)
            .all(|(_, p)| p.is_some())
    );
}

#[test]
fn validators_report_every_field_and_send_nothing() {
    let tp = setup();
    let db = tp.pool();
    let mut bad = users::Record::new();
    bad.name.set("a");
    bad.email.set(Some("not-an-address".to_string()));
    bad.age.set(Some(200));
    bad.role.set(Role::Member);
    let counting = Counting::new(db);
    let err = bad.insert(&counting).unwrap_err();
    assert_eq!(counting.sent(), 0, "a failed validation sends nothing");
    let Error::Validation { table, errors } = &err else {
        panic!("expected a validation error, got {err}")
    };
    assert_eq!(*table, "users");
    assert_eq!(errors.fields(), ["name", "email", "age"]);
    assert!(err.to_string().contains("at least 2 characters"), "{err}");

    // max_length from the declaration, not_blank and the model-level rule: all at once.
    let mut bad = users::Record::new();
    bad.name.set("   ");
    bad.role.set(Role::Admin);
    bad.email.set(None);
    let err = bad.insert(db).unwrap_err();
    let Error::Validation { errors, .. } = &err else {
        panic!("expected a validation error, got {err}")
    };
    assert_eq!(errors.fields(), ["name", ""], "{err}");
    let mut long = user(&"x".repeat(41), None, None);
    let err = long.insert(db).unwrap_err();
    assert!(err.to_string().contains("at most 40 characters"), "{err}");
    let mut no_role = users::Record::new();
    no_role.name.set("eve");
    let err = no_role.insert(db).unwrap_err();
    assert_eq!(
        err.code().as_ref().map(|c| c.code()),
        Some("23502"),
        "a NOT NULL column left out is the server's not-null violation: {err}"
    );

    // A hook refuses: typed error naming the hook.
    let err = user("forbidden", None, None).insert(db).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Hook {
                hook: "before_insert",
                table: "users",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(users::Entity::find().count(db).unwrap(), 0);
}

#[test]
fn a_failing_hook_or_validator_in_a_transaction_rolls_everything_back() {
    let tp = setup();
    let db = tp.pool();
    // A validator fails after other writes in the same transaction.
    let result: Result<()> = db.transaction(|tx| {
        let ann = user("ann", None, None).insert(&*tx)?;
        let mut p = posts::Record::new();
        p.user_id.set(ann.id);
        p.title.set("draft");
        p.insert(&*tx)?;
        user("x", None, None).insert(&*tx)?; // too short: fails validation
        Ok(())
    });
    assert!(matches!(result, Err(Error::Validation { .. })));
    assert_eq!(users::Entity::find().count(db).unwrap(), 0);
    assert_eq!(posts::Entity::find().with_deleted().count(db).unwrap(), 0);

    // An after hook fails once the statement ran: the transaction takes it back.
    let ann = user("ann", None, None).insert(db).unwrap();
    let result: Result<()> = db.transaction(|tx| {
        let mut r = ann.clone().into_record();
        r.name.set("after-fail");
        r.update(&*tx)?;
        Ok(())
    });
    assert!(matches!(
        result,
        Err(Error::Hook {
            hook: "after_update",
            ..
        })
    ));
    let still = users::Entity::find_by_id(ann.id).one(db).unwrap().unwrap();
    assert_eq!(still.name, "ann");

    // A before_delete hook refuses.
    let mut admin = user("root", Some("root@example.com"), None);
    admin.role.set(Role::Admin);
    let admin = admin.insert(db).unwrap();
    let err = admin.into_record().delete(db).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Hook {
                hook: "before_delete",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn save_a_parent_with_its_children_in_one_transaction() {
    let tp = setup();
    let db = tp.pool();
    let saved = db
        .transaction(|tx| {
            let mut parent = user("ann", None, None);
            let ann = parent.save(&*tx)?;
            let mut children = Vec::new();
            for title in ["a", "b", "c"] {
                let mut p = posts::Record::new();
                p.user_id.set(ann.id);
                p.title.set(title);
                children.push(p);
            }
            let posts = posts::Entity::insert_many(children).exec(&*tx)?;
            Ok::<_, Error>((ann, posts))
        })
        .unwrap();
    assert_eq!(saved.1.len(), 3);
    assert!(saved.1.iter().all(|p| p.user_id == saved.0.id));
    assert_eq!(saved.0.children(posts::user_id).count(db).unwrap(), 3);

    // A child that breaks a constraint takes the parent with it.
    let result = db.transaction(|tx| {
        let ann = user("bob", None, None).save(&*tx)?;
        let mut p = posts::Record::new();
        p.user_id.set(ann.id + 1000); // no such user: foreign key violation
        p.title.set("orphan");
        p.insert(&*tx)?;
        Ok::<_, Error>(())
    });
    assert!(result.is_err());
    assert_eq!(users::Entity::find().count(db).unwrap(), 1);
}

#[test]
fn soft_deletes() {
    let tp = setup();
    let db = tp.pool();
    let ann = user("ann", None, None).insert(db).unwrap();
    let mut ids = Vec::new();
    for title in ["keep", "drop", "also drop"] {
        let mut p = posts::Record::new();
        p.user_id.set(ann.id);
        p.title.set(title);
        ids.push(p.insert(db).unwrap().id);
    }
    let drop = posts::Entity::find_by_id(ids[1]).one(db).unwrap().unwrap();
    assert_eq!(drop.clone().into_record().delete(db).unwrap(), 1);
    assert_eq!(
        drop.clone().into_record().delete(db).unwrap(),
        0,
        "already deleted"
    );
    assert_eq!(posts::Entity::find().count(db).unwrap(), 2);
    assert!(posts::Entity::find_by_id(ids[1]).one(db).unwrap().is_none());
    let deleted = posts::Entity::find_by_id(ids[1])
        .with_deleted()
        .one(db)
        .unwrap()
        .unwrap();
    assert!(
        deleted.deleted_at.is_some(),
        "the row is still there, marked"
    );
    assert_eq!(posts::Entity::find().with_deleted().count(db).unwrap(), 3);
    let only = posts::Entity::find().only_deleted().all(db).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].title, "drop");
    // Relations skip deleted rows too.
    assert_eq!(ann.children(posts::user_id).count(db).unwrap(), 2);
    let loaded = [ann.clone()].load_many(posts::user_id, db).unwrap();
    assert_eq!(loaded[0].len(), 2);
    // An update does not reach a deleted row.
    let mut edit = deleted.clone().into_record();
    edit.title.set("edited");
    assert!(matches!(edit.update(db), Err(Error::RecordNotFound { .. })));

    // restore.
    let mut r = deleted.into_record();
    let restored = r.restore(db).unwrap();
    assert_eq!(restored.deleted_at, None);
    assert_eq!(posts::Entity::find().count(db).unwrap(), 3);
    assert!(matches!(r.restore(db), Err(Error::RecordNotFound { .. })));

    // delete_many marks; force deletes.
    let n = posts::Entity::delete_many()
        .filter(posts::title.like("%drop"))
        .exec(db)
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(posts::Entity::find().count(db).unwrap(), 1);
    assert_eq!(posts::Entity::find().with_deleted().count(db).unwrap(), 3);
    let n = posts::Entity::delete_many()
        .filter(posts::title.eq("also drop"))
        .force()
        .exec(db)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(posts::Entity::find().with_deleted().count(db).unwrap(), 2);
    let keep = posts::Entity::find_by_id(ids[0]).one(db).unwrap().unwrap();
    assert_eq!(keep.into_record().force_delete(db).unwrap(), 1);
    assert_eq!(posts::Entity::find().with_deleted().count(db).unwrap(), 1);
    // update_many leaves deleted rows alone unless told.
    let n = posts::Entity::update_many()
        .set(posts::body.eq(Some("x".to_string())))
        .exec(db)
        .unwrap();
    assert_eq!(n, 0);
    let n = posts::Entity::update_many()
        .set(posts::body.eq(Some("x".to_string())))
        .with_deleted()
        .exec(db)
        .unwrap();
    assert_eq!(n, 1);
    // A table without soft deletes cannot restore.
    let mut u = ann.into_record();
    assert!(matches!(u.restore(db), Err(Error::Unsupported(_))));
    let _ = Deleted::Include;
}

/// An in-memory entity cache, to show the seam at work.
#[derive(Default)]
struct MemCache {
    rows: Mutex<HashMap<(&'static str, String), String>>,
}

impl EntityCache for MemCache {
    fn get(&self, table: &'static TableMeta, key: &str) -> Option<String> {
        self.rows
            .lock()
            .unwrap()
            .get(&(table.name, key.to_string()))
            .cloned()
    }
    fn put(&self, table: &'static TableMeta, key: &str, row: &str) {
        self.rows
            .lock()
            .unwrap()
            .insert((table.name, key.to_string()), row.to_string());
    }
    fn invalidate(&self, table: &'static TableMeta, key: &str) {
        self.rows
            .lock()
            .unwrap()
            .remove(&(table.name, key.to_string()));
    }
    fn invalidate_table(&self, table: &'static TableMeta) {
        self.rows
            .lock()
            .unwrap()
            .retain(|(t, _), _| *t != table.name);
    }
}

/// An executor offering the cache, counting what reaches the server.
struct Cached<'a, E> {
    inner: Counting<'a, E>,
    cache: MemCache,
}

impl<E: LifeExecutor> LifeExecutor for Cached<'_, E> {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.inner.query(sql, params)
    }
    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.inner.execute(sql, params)
    }
    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.inner.execute_unprepared(sql)
    }
    fn entity_cache(&self) -> Option<&dyn EntityCache> {
        Some(&self.cache)
    }
}

#[test]
fn find_by_id_and_single_row_writes_go_through_the_cache_seam() {
    let tp = setup();
    let db = tp.pool();
    let cached = Cached {
        inner: Counting::new(db),
        cache: MemCache::default(),
    };
    let ann = user("ann", None, None).insert(&cached).unwrap();
    let sent = cached.inner.sent();
    let a = users::Entity::find_by_id(ann.id)
        .one(&cached)
        .unwrap()
        .unwrap();
    let b = users::Entity::find_by_id(ann.id)
        .one(&cached)
        .unwrap()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(
        cached.inner.sent(),
        sent + 1,
        "the second lookup is a cache hit"
    );

    // A write through the entity layer invalidates the entry: the next read is fresh.
    let mut r = a.into_record();
    r.age.set(Some(33));
    r.update(&cached).unwrap();
    let sent = cached.inner.sent();
    let c = users::Entity::find_by_id(ann.id)
        .one(&cached)
        .unwrap()
        .unwrap();
    assert_eq!(c.age, Some(33));
    assert_eq!(cached.inner.sent(), sent + 1);
    // Bulk writes drop the table's entries.
    users::Entity::update_many()
        .set(users::age.eq(34))
        .exec(&cached)
        .unwrap();
    let d = users::Entity::find_by_id(ann.id)
        .one(&cached)
        .unwrap()
        .unwrap();
    assert_eq!(d.age, Some(34));
    // Without a cache (the pool itself), every lookup is a query.
    let counting = Counting::new(db);
    users::Entity::find_by_id(ann.id).one(&counting).unwrap();
    users::Entity::find_by_id(ann.id).one(&counting).unwrap();
    assert_eq!(counting.sent(), 2);
}

#[test]
fn columns_named_like_generated_locals_work() {
    let tp = setup();
    let db = tp.pool();
    let mut r = settings::Record::new();
    r.key.set("theme");
    r.value.set(Some("dark".to_string()));
    for field in [&mut r.out, &mut r.i, &mut r.v, &mut r.r, &mut r.errors] {
        field.set(1);
    }
    for field in [&mut r.slots, &mut r.st, &mut r.f] {
        field.set(2);
    }
    r.model.set("m");
    r.map.set(json!({"a": 1}));
    r.serializer.set("s");
    r.deserializer.set("d");
    r.codes.set(vec![Some("abc".to_string()), None]);
    let row = r.insert(db).unwrap();
    let found = settings::Entity::find_by_id("theme".to_string())
        .one(db)
        .unwrap()
        .unwrap();
    assert_eq!(found, row);
    let back: settings::Model =
        serde_json::from_str(&serde_json::to_string(&row).unwrap()).unwrap();
    assert_eq!(back, row);
    // #[max_length] on an array column checks each element.
    let mut long = row.clone().into_record();
    long.codes.set(vec![Some("abcd".to_string())]);
    let err = long.update(db).unwrap_err();
    assert!(
        err.to_string().contains("codes: must be at most 3"),
        "{err}"
    );
}

#[test]
fn changing_a_key_field_rekeys_the_loaded_row_and_save_refuses_it() {
    let tp = setup();
    let db = tp.pool();
    for member in [7i64, 8] {
        let mut m = memberships::Record::new();
        m.org.set("acme");
        m.member.set(member);
        m.level.set(1i16);
        m.insert(db).unwrap();
    }
    let seven = memberships::Entity::find_by_id(("acme".to_string(), 7i64))
        .one(db)
        .unwrap()
        .unwrap();
    // save of a loaded record whose key changed is refused: it would write another row.
    let mut moved = seven.clone().into_record();
    moved.member.set(9i64);
    let err = moved.save(db).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    // update re-keys the row it was loaded from, and only that row.
    let row = moved.update(db).unwrap().unwrap();
    assert_eq!(row.member, 9);
    let mut members: Vec<i64> = memberships::Entity::find()
        .order_by(memberships::member)
        .all(db)
        .unwrap()
        .into_iter()
        .map(|m| m.member)
        .collect();
    members.sort_unstable();
    assert_eq!(members, [8, 9]);
    // The record now stands for the re-keyed row.
    moved.level.set(5i16);
    assert_eq!(moved.update(db).unwrap().unwrap().member, 9);
    assert_eq!(moved.delete(db).unwrap(), 1);
    assert_eq!(memberships::Entity::find().count(db).unwrap(), 1);
}

#[test]
fn save_with_identity_always_generated_columns_and_soft_deletes() {
    let tp = setup();
    let db = tp.pool();
    let mut a = accounts::Record::new();
    a.name.set("root");
    let root = a.insert(db).unwrap();
    assert_eq!(root.name_len, 4);
    // A loaded record saves: the identity-always key and the generated column are handled.
    let mut edit = root.clone().into_record();
    edit.name.set("rooted");
    let saved = edit.save(db).unwrap();
    assert_eq!((saved.id, saved.name_len), (root.id, 6));
    // Timestamps in one batch where one record sets created_at and the other does not.
    let mut first = accounts::Record::new();
    first.name.set("a");
    first.created_at.set(saved.created_at);
    let mut second = accounts::Record::new();
    second.name.set("b");
    let both = accounts::Entity::insert_many([first, second])
        .exec(db)
        .unwrap();
    assert_eq!(both[0].created_at, saved.created_at);
    assert!(both[1].created_at >= saved.created_at);
    // save leaves a soft-deleted row alone.
    let mut gone = both[1].clone().into_record();
    gone.delete(db).unwrap();
    gone.name.set("revived?");
    let err = gone.save(db).unwrap_err();
    assert!(matches!(err, Error::RecordNotFound { .. }), "{err}");
    let still = accounts::Entity::find_by_id(both[1].id)
        .with_deleted()
        .one(db)
        .unwrap()
        .unwrap();
    assert_eq!(still.name, "b");
    // A relation of a table to itself: loaders work, the one-query join says it cannot.
    let mut child = accounts::Record::new();
    child.name.set("child");
    child.parent_id.set(Some(root.id));
    let child = child.insert(db).unwrap();
    let parents = [child.clone()].load_one(accounts::parent_id, db).unwrap();
    assert_eq!(parents[0].as_ref().unwrap().id, root.id);
    let err = accounts::Entity::find()
        .also_related(accounts::parent_id)
        .all(db)
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    // A `sql_type!` column of a type that is not text-like is refused, not read as garbage.
    db.execute_unprepared("INSERT INTO prices VALUES (1, 12.34)")
        .unwrap();
    let err = prices::Entity::find().all(db).unwrap_err();
    assert!(matches!(err, Error::FromSql { .. }), "{err}");
}

#[test]
fn model_deserialization_is_strict() {
    let row = json!({
        "key": "k", "value": null, "out": 1, "i": 1, "v": 1, "model": "m", "r": 1, "errors": 1,
        "map": {}, "slots": 1, "st": 1, "f": 1, "serializer": "s", "deserializer": "d",
        "codes": []
    });
    let m: settings::Model = serde_json::from_value(row.clone()).unwrap();
    // A missing non-null JSON column is an error, not a JSON null.
    let mut missing = row.clone();
    missing.as_object_mut().unwrap().remove("map");
    let err = serde_json::from_value::<settings::Model>(missing).unwrap_err();
    assert!(err.to_string().contains("missing field `map`"), "{err}");
    // A sequence of the columns in order.
    let seq = json!(["k", null, 1, 1, 1, "m", 1, 1, {}, 1, 1, 1, "s", "d", []]);
    assert_eq!(serde_json::from_value::<settings::Model>(seq).unwrap(), m);
    // A duplicated column.
    let text = r#"{"key":"a","key":"b"}"#;
    let err = serde_json::from_str::<settings::Model>(text).unwrap_err();
    assert!(err.to_string().contains("duplicate field `key`"), "{err}");
}
