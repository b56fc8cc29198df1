//! The typed query builder against a real server, with real rows: every builder feature,
//! every SQL type with its Rust type, enums, and injection attempts read back verbatim.

// Rows read into wide tuples are what these tests check.
#![allow(clippy::type_complexity)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use lifeguard::client::Error;
use lifeguard::executor::LifeExecutor;
use lifeguard::query::dsl::*;
use lifeguard::query::{into_sql, sql};
use lifeguard::sql_types::{Bool, Int4, Text};
use lifeguard::testkit::TestPool;
use lifeguard::values::{Interval, Numeric};

pub mod schema {
    lifeguard::sql_enum! {
        /// A post's state.
        pub enum PostState = "post_state" { Draft = "draft", Published = "published", Hidden = "hidden" }
    }

    lifeguard::table! {
        users (id) {
            id -> Int4,
            name -> Text,
            email -> Nullable<Text>,
            active -> Bool,
        }
    }

    lifeguard::table! {
        use lifeguard::sql_types::*;
        use super::PostState;

        posts (id) {
            id -> Int8,
            author_id -> Int4,
            title -> Text,
            views -> Int4,
            score -> Nullable<Float8>,
            state -> PostState,
            tags -> Array<Text>,
        }
    }

    lifeguard::table! {
        comments (id) {
            id -> Int8,
            #[references(posts(id))]
            post_id -> Int8,
            body -> Text,
        }
    }

    lifeguard::table! {
        top_posts (id) {
            id -> Int8,
            views -> Int4,
        }
    }

    lifeguard::table! {
        /// Every SQL type of the DSL, with its Rust type.
        everything (id) {
            id -> Int4,
            b -> Bool,
            i2 -> Int2,
            i8_ -> Int8,
            f4 -> Float4,
            f8 -> Float8,
            num -> Numeric,
            t -> Text,
            #[max_length = 20]
            vc -> Varchar,
            by -> Bytea,
            d -> Date,
            tm -> Time,
            ts -> Timestamp,
            tz -> Timestamptz,
            iv -> Interval,
            u -> Uuid,
            j -> Json,
            jb -> Jsonb,
            arr -> Array<Nullable<Int4>>,
            opt -> Nullable<Text>,
        }
    }

    lifeguard::joinable!(posts -> users (author_id));
    lifeguard::joinable!(comments -> posts (post_id));
    lifeguard::allow_tables_to_appear_in_same_query!(users, posts, comments, top_posts);
}

use schema::*;

lifeguard::queryable! {
    #[derive(Debug, PartialEq)]
    pub struct User {
        pub id: i32,
        pub name: String,
        pub email: Option<String>,
        pub active: bool,
    }
}

const DDL: &str = "
    CREATE TYPE post_state AS ENUM ('draft', 'published', 'hidden');
    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text, active bool NOT NULL DEFAULT true);
    CREATE TABLE posts (id bigserial PRIMARY KEY, author_id int4 NOT NULL REFERENCES users(id),
        title text NOT NULL, views int4 NOT NULL DEFAULT 0, score float8,
        state post_state NOT NULL DEFAULT 'draft', tags text[] NOT NULL DEFAULT '{}');
    CREATE TABLE comments (id bigserial PRIMARY KEY, post_id int8 NOT NULL REFERENCES posts(id), body text NOT NULL);
    INSERT INTO users (name, email, active) VALUES
        ('ann', 'ann@example.com', true), ('bob', NULL, true), ('cid', 'cid@example.com', false);
    INSERT INTO posts (author_id, title, views, score, state, tags) VALUES
        (1, 'a1', 10, 1.5, 'published', '{x,y}'), (1, 'a2', 20, NULL, 'draft', '{}'),
        (2, 'b1', 5, 2.5, 'published', '{y}');
    INSERT INTO comments (post_id, body) VALUES (1, 'nice'), (1, 'meh'), (3, 'ok');
";

fn setup() -> TestPool {
    let tp = TestPool::new().expect("a test pool");
    tp.pool().execute_unprepared(DDL).expect("schema and rows");
    tp
}

#[test]
fn select_filter_order_limit_into_tuples_and_structs() {
    let tp = setup();
    let db = tp.pool();
    let all: Vec<User> = users::table.order_by(users::id).load(db).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[1],
        User {
            id: 2,
            name: "bob".into(),
            email: None,
            active: true
        }
    );
    let names: Vec<String> = users::table
        .select(users::name)
        .filter(
            users::active
                .eq(true)
                .and(users::email.is_not_null().or(users::name.like("b%"))),
        )
        .order_by(users::name.desc())
        .load(db)
        .unwrap();
    assert_eq!(names, ["bob", "ann"]);
    let page: Vec<(i32, Option<String>)> = users::table
        .select((users::id, users::email))
        .order_by(users::id)
        .limit(2)
        .offset(1)
        .load(db)
        .unwrap();
    assert_eq!(page, [(2, None), (3, Some("cid@example.com".into()))]);
    let ids: Vec<i32> = users::table
        .select(users::id)
        .filter(users::id.eq_any(vec![1, 3]))
        .filter(users::name.ne_all(vec!["cid".to_string()]))
        .load(db)
        .unwrap();
    assert_eq!(ids, [1]);
    let between: Vec<i64> = posts::table
        .select(posts::id)
        .filter(
            posts::views
                .between(6, 20)
                .and(not(posts::title.ilike("A2"))),
        )
        .load(db)
        .unwrap();
    assert_eq!(between, [1]);
}

#[test]
fn get_result_first_optional_count_exists() {
    let tp = setup();
    let db = tp.pool();
    let ann: User = users::table.filter(users::id.eq(1)).get_result(db).unwrap();
    assert_eq!(ann.name, "ann");
    let first: String = users::table
        .select(users::name)
        .order_by(users::id.desc())
        .first(db)
        .unwrap();
    assert_eq!(first, "cid");
    let none: Option<String> = users::table
        .select(users::name)
        .filter(users::id.eq(99))
        .optional(db)
        .unwrap();
    assert_eq!(none, None);
    let err = users::table
        .select(users::name)
        .filter(users::id.eq(99))
        .first::<String>(db)
        .unwrap_err();
    assert!(matches!(err, Error::RowCount { actual: 0, .. }), "{err}");
    let err = users::table
        .select(users::name)
        .get_result::<String>(db)
        .unwrap_err();
    assert!(matches!(err, Error::RowCount { actual: 3, .. }), "{err}");
    assert_eq!(
        users::table
            .filter(users::active.eq(true))
            .count(db)
            .unwrap(),
        2
    );
    assert_eq!(posts::table.limit(2).count(db).unwrap(), 2);
    assert!(
        users::table
            .filter(users::name.eq("bob"))
            .exists(db)
            .unwrap()
    );
    assert!(
        !users::table
            .filter(users::name.eq("zed"))
            .exists(db)
            .unwrap()
    );
}

#[test]
fn aggregates_group_by_having_distinct() {
    let tp = setup();
    let db = tp.pool();
    let rows: Vec<(
        i32,
        i64,
        Option<i64>,
        Option<Numeric>,
        Option<i32>,
        Option<f64>,
    )> = posts::table
        .select((
            posts::author_id,
            count_star(),
            sum(posts::views),
            avg(posts::views),
            max(posts::views),
            min(posts::score),
        ))
        .group_by(posts::author_id)
        .having(count_star().ge(1_i64))
        .order_by(posts::author_id)
        .load(db)
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 1);
    assert_eq!(rows[0].1, 2);
    assert_eq!(rows[0].2, Some(30));
    assert_eq!(
        rows[0].3.as_ref().map(|n| n.as_str().to_owned()),
        Some("15.0000000000000000".into())
    );
    assert_eq!(rows[0].4, Some(20));
    assert_eq!(rows[0].5, Some(1.5));
    let authors: Vec<i32> = posts::table
        .select(posts::author_id)
        .distinct()
        .order_by(posts::author_id)
        .load(db)
        .unwrap();
    assert_eq!(authors, [1, 2]);
    let top: Vec<(i32, String)> = posts::table
        .select((posts::author_id, posts::title))
        .distinct_on(posts::author_id)
        .order_by((posts::author_id, posts::views.desc()))
        .load(db)
        .unwrap();
    assert_eq!(top, [(1, "a2".to_string()), (2, "b1".to_string())]);
    let n: i64 = users::table
        .select(count(users::email))
        .get_result(db)
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn joins_inner_left_and_explicit() {
    let tp = setup();
    let db = tp.pool();
    let rows: Vec<(String, String, String)> = users::table
        .inner_join(posts::table)
        .inner_join(comments::table)
        .select((users::name, posts::title, comments::body))
        .order_by(comments::id)
        .load(db)
        .unwrap();
    assert_eq!(
        rows,
        [
            ("ann".into(), "a1".into(), "nice".into()),
            ("ann".into(), "a1".into(), "meh".into()),
            ("bob".into(), "b1".into(), "ok".into())
        ]
    );
    let rows: Vec<(String, Option<String>)> = users::table
        .left_join(posts::table)
        .select((users::name, posts::title.nullable()))
        .order_by((users::id, posts::id.nullable()))
        .load(db)
        .unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3], ("cid".into(), None));
    // A foreign-key column as the relation, both ways.
    let bodies: Vec<(String, String)> = comments::table
        .inner_join_via(comments::post_id)
        .select((posts::title, comments::body))
        .order_by(comments::id)
        .load(db)
        .unwrap();
    assert_eq!(bodies[0], ("a1".into(), "nice".into()));
    let counts: Vec<(String, i64)> = posts::table
        .left_join_referencing(comments::post_id)
        .select((posts::title, count(comments::id.nullable())))
        .group_by(posts::title)
        .order_by(posts::title)
        .load(db)
        .unwrap();
    assert_eq!(
        counts,
        [("a1".into(), 2), ("a2".into(), 0), ("b1".into(), 1)]
    );
    let n = posts::table
        .query()
        .inner_join_on(
            users::table,
            users::id.eq(posts::author_id).and(users::active.eq(true)),
        )
        .count(db)
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn subqueries_ctes_windows_and_locks() {
    let tp = setup();
    let db = tp.pool();
    let with_posts: Vec<String> = users::table
        .select(users::name)
        .filter(users::id.eq_any_subquery(posts::table.select(posts::author_id)))
        .order_by(users::name)
        .load(db)
        .unwrap();
    assert_eq!(with_posts, ["ann", "bob"]);
    let commented: Vec<String> = users::table
        .select(users::name)
        .filter(exists(
            posts::table
                .correlate(users::table)
                .inner_join(comments::table)
                .select(comments::id)
                .filter(posts::author_id.eq(users::id).and(comments::body.eq("ok"))),
        ))
        .load(db)
        .unwrap();
    assert_eq!(commented, ["bob"]);
    let counts: Vec<(String, Option<i64>)> = users::table
        .select((
            users::name,
            posts::table
                .correlate(users::table)
                .select(count_star())
                .filter(posts::author_id.eq(users::id))
                .single_value(),
        ))
        .order_by(users::id)
        .load(db)
        .unwrap();
    assert_eq!(counts[0], ("ann".into(), Some(2)));
    assert_eq!(counts[2], ("cid".into(), Some(0)));
    let top: Vec<i64> = top_posts::table
        .query()
        .with(
            top_posts::table,
            posts::table
                .select((posts::id, posts::views))
                .order_by(posts::views.desc())
                .limit(2),
        )
        .select(top_posts::id)
        .order_by(top_posts::views)
        .load(db)
        .unwrap();
    assert_eq!(top, [1, 2]);
    let ranked: Vec<(String, i64, i64, Option<i64>)> = posts::table
        .select((
            posts::title,
            row_number().over(
                window()
                    .partition_by(posts::author_id)
                    .order_by(posts::views.desc()),
            ),
            rank().over(window().order_by(posts::views.desc())),
            sum(posts::views).over(window().partition_by(posts::author_id)),
        ))
        .order_by(posts::id)
        .load(db)
        .unwrap();
    assert_eq!(
        ranked,
        [
            ("a1".into(), 2, 2, Some(30)),
            ("a2".into(), 1, 1, Some(30)),
            ("b1".into(), 1, 3, Some(5))
        ]
    );
    // FOR UPDATE SKIP LOCKED inside transactions: the second skips the row the first holds.
    let tx1 = db.begin().unwrap();
    let locked: Vec<i64> = posts::table
        .select(posts::id)
        .filter(posts::id.eq(1_i64))
        .for_update()
        .load(&tx1)
        .unwrap();
    assert_eq!(locked, [1]);
    let tx2 = db.begin().unwrap();
    let free: Vec<i64> = posts::table
        .select(posts::id)
        .order_by(posts::id)
        .for_update()
        .skip_locked()
        .load(&tx2)
        .unwrap();
    assert_eq!(free, [2, 3]);
    tx2.rollback().unwrap();
    tx1.rollback().unwrap();
}

#[test]
fn insert_update_delete_with_returning_and_upsert() {
    let tp = setup();
    let db = tp.pool();
    let id: i32 = insert_into(users::table)
        .values((
            users::name.eq("dan"),
            users::email.eq(Some("dan@x".to_string())),
        ))
        .returning(users::id)
        .get_result(db)
        .unwrap();
    assert_eq!(id, 4);
    let dan: User = users::table
        .filter(users::id.eq(id))
        .get_result(db)
        .unwrap();
    assert!(dan.active, "the omitted column took its default");
    let rows = vec![
        (users::name.eq("eve"), Some(users::active.eq(false))),
        (users::name.eq("fay"), None),
    ];
    let made: Vec<(String, bool)> = insert_into(users::table)
        .values(rows)
        .returning((users::name, users::active))
        .load(db)
        .unwrap();
    assert_eq!(made, [("eve".into(), false), ("fay".into(), true)]);
    let n = insert_into(users::table)
        .values((users::id.eq(1), users::name.eq("dup")))
        .on_conflict_do_nothing(users::id)
        .execute(db)
        .unwrap();
    assert_eq!(n, 0);
    let (views,): (i32,) = insert_into(posts::table)
        .values((
            posts::id.eq(1_i64),
            posts::author_id.eq(1),
            posts::title.eq("x"),
            posts::views.eq(5),
        ))
        .on_conflict_do_update(
            posts::id,
            posts::views.eq(posts::views + excluded(posts::views)),
        )
        .returning((posts::views,))
        .get_result(db)
        .unwrap();
    assert_eq!(views, 15);
    let after: Vec<i32> = update(posts::table.filter(posts::author_id.eq(1)))
        .set((
            posts::views.eq(posts::views * 2),
            posts::state.eq(PostState::Hidden),
        ))
        .returning(posts::views)
        .load(db)
        .unwrap();
    assert_eq!(after.len(), 2);
    assert!(after.contains(&30) && after.contains(&40), "{after:?}");
    let hidden = posts::table
        .filter(posts::state.eq(PostState::Hidden))
        .count(db)
        .unwrap();
    assert_eq!(hidden, 2);
    let states: Vec<PostState> = posts::table
        .select(posts::state)
        .order_by(posts::id)
        .load(db)
        .unwrap();
    assert_eq!(
        states,
        [PostState::Hidden, PostState::Hidden, PostState::Published]
    );
    let n = update(users::table)
        .set(users::email.eq(None::<String>))
        .filter(users::name.eq("eve"))
        .execute(db)
        .unwrap();
    assert_eq!(n, 1);
    let gone: Vec<String> = delete(comments::table.filter(comments::body.ne("ok")))
        .returning(comments::body)
        .load(db)
        .unwrap();
    assert_eq!(gone.len(), 2);
    assert_eq!(delete(comments::table).execute(db).unwrap(), 1);
}

#[test]
fn every_sql_type_round_trips() {
    let tp = TestPool::new().unwrap();
    let db = tp.pool();
    db.execute_unprepared(
        "CREATE TABLE everything (id int4 PRIMARY KEY, b bool NOT NULL, i2 int2 NOT NULL,
         i8_ int8 NOT NULL, f4 float4 NOT NULL, f8 float8 NOT NULL, num numeric NOT NULL,
         t text NOT NULL, vc varchar(20) NOT NULL, by bytea NOT NULL, d date NOT NULL,
         tm time NOT NULL, ts timestamp NOT NULL, tz timestamptz NOT NULL, iv interval NOT NULL,
         u uuid NOT NULL, j json NOT NULL DEFAULT '{}', jb jsonb NOT NULL DEFAULT '{}',
         arr int4[] NOT NULL DEFAULT '{}', opt text)",
    )
    .unwrap();
    let num: Numeric = "-12345.6789".parse().unwrap();
    let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let tm = NaiveTime::from_hms_micro_opt(13, 14, 15, 123456).unwrap();
    let ts = NaiveDateTime::new(d, tm);
    let tz: DateTime<Utc> = Utc.with_ymd_and_hms(2020, 1, 2, 3, 4, 5).unwrap();
    let iv = Interval::new(14, 3, 4_000_000);
    let u = uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
    let j = serde_json::json!({"a": [1, 2, {"b": null}]});
    insert_into(everything::table)
        .values((
            everything::id.eq(1),
            everything::b.eq(true),
            everything::i2.eq(-2_i16),
            everything::i8_.eq(i64::MAX),
            everything::f4.eq(1.5_f32),
            everything::f8.eq(-2.25_f64),
            everything::num.eq(&num),
            everything::t.eq("text"),
            everything::vc.eq("varchar"),
            everything::by.eq(&b"\x00\x01\xff"[..]),
            everything::d.eq(d),
            everything::tm.eq(tm),
            everything::ts.eq(ts),
            everything::tz.eq(tz),
            everything::iv.eq(iv),
            everything::u.eq(u),
        ))
        .execute(db)
        .unwrap();
    update(everything::table.filter(everything::id.eq(1)))
        .set((
            everything::j.eq(j.clone()),
            everything::jb.eq(j.clone()),
            everything::arr.eq(vec![Some(1), None, Some(3)]),
            everything::opt.eq(None::<String>),
        ))
        .execute(db)
        .unwrap();
    let a: (bool, i16, i64, f32, f64, Numeric, String, String, Vec<u8>) = everything::table
        .select((
            everything::b,
            everything::i2,
            everything::i8_,
            everything::f4,
            everything::f8,
            everything::num,
            everything::t,
            everything::vc,
            everything::by,
        ))
        .get_result(db)
        .unwrap();
    assert_eq!(
        a,
        (
            true,
            -2,
            i64::MAX,
            1.5,
            -2.25,
            num.clone(),
            "text".into(),
            "varchar".into(),
            vec![0, 1, 255]
        )
    );
    let b: (
        NaiveDate,
        NaiveTime,
        NaiveDateTime,
        DateTime<Utc>,
        Interval,
        uuid::Uuid,
        serde_json::Value,
        serde_json::Value,
        Vec<Option<i32>>,
        Option<String>,
    ) = everything::table
        .select((
            everything::d,
            everything::tm,
            everything::ts,
            everything::tz,
            everything::iv,
            everything::u,
            everything::j,
            everything::jb,
            everything::arr,
            everything::opt,
        ))
        .get_result(db)
        .unwrap();
    assert_eq!(
        b,
        (
            d,
            tm,
            ts,
            tz,
            iv,
            u,
            j.clone(),
            j,
            vec![Some(1), None, Some(3)],
            None
        )
    );
    // Values typed by the builder filter too, including through casts.
    let n = everything::table
        .filter(
            everything::num
                .eq(num)
                .and(everything::iv.eq(iv))
                .and(everything::tz.le(tz)),
        )
        .count(db)
        .unwrap();
    assert_eq!(n, 1);
    let five: i32 = everything::table
        .select(into_sql::<Int4, _>(5))
        .get_result(db)
        .unwrap();
    assert_eq!(five, 5);
}

#[test]
fn injection_attempts_are_stored_and_read_back_verbatim() {
    let tp = setup();
    let db = tp.pool();
    let attempts = [
        "'; DROP TABLE users; --",
        "\" OR 1=1 --",
        "a'b\"c",
        "/* comment */ x",
        "-- line comment",
        "$1 $$ $2 ?",
        "semi; colon;",
        "back\\slash",
        "ünïcødé 🚀",
    ];
    for (i, a) in attempts.iter().enumerate() {
        let id: i32 = insert_into(users::table)
            .values((users::name.eq(*a), users::email.eq(*a)))
            .returning(users::id)
            .get_result(db)
            .unwrap();
        let (name, email): (String, Option<String>) = users::table
            .select((users::name, users::email))
            .filter(users::id.eq(id).and(users::name.eq(*a)))
            .get_result(db)
            .unwrap();
        assert_eq!(
            (name.as_str(), email.as_deref()),
            (*a, Some(*a)),
            "attempt {i}"
        );
        // Through a raw fragment's bound value as well.
        let back: String = users::table
            .select(sql::<Text>("lower(").bind::<Text, _>(*a).sql(")"))
            .filter(sql::<Bool>("\"users\".\"id\" =").bind::<Int4, _>(id))
            .get_result(db)
            .unwrap();
        assert_eq!(back, a.to_lowercase());
    }
    // NUL bytes: PostgreSQL text cannot hold them, and the server says so (an error, not a
    // truncated or altered value); bytea keeps them.
    let err = insert_into(users::table)
        .values(users::name.eq("nul\0byte"))
        .execute(db)
        .unwrap_err();
    assert!(err.to_string().contains("0x00"), "{err}");
    let err = users::table
        .select(users::id)
        .filter(sql::<Bool>("name =").bind::<Text, _>("nul\0byte"))
        .load::<i32>(db)
        .unwrap_err();
    assert!(err.to_string().contains("0x00"), "{err}");
    let bytes: Vec<u8> = users::table
        .select(into_sql::<lifeguard::sql_types::Bytea, _>(
            b"a\0'b;--".to_vec(),
        ))
        .first(db)
        .unwrap();
    assert_eq!(bytes, b"a\0'b;--");
    assert_eq!(users::table.count(db).unwrap(), 3 + attempts.len() as i64);
}

#[test]
fn the_same_query_shape_reuses_one_prepared_statement() {
    let tp = setup();
    let conn = tp.pool().acquire().unwrap();
    for id in 1..=3 {
        let _: Vec<String> = users::table
            .select(users::name)
            .filter(users::id.eq(id))
            .load(&*conn)
            .unwrap();
    }
    let (n,): (i64,) = conn
        .query_one_as(
            "SELECT count(*) FROM pg_prepared_statements \
             WHERE statement LIKE '%FROM \"users\" WHERE%' AND statement NOT LIKE '%pg_prepared%'",
            &[],
        )
        .unwrap();
    assert_eq!(n, 1, "three lookups, one prepared statement");
}

#[test]
fn limited_writes_empty_batches_and_change_sets() {
    let tp = setup();
    let db = tp.pool();
    // Delete exactly the two newest posts, as a limited, ordered query selects them.
    delete(comments::table).execute(db).unwrap();
    let gone: Vec<i64> = delete(posts::table.order_by(posts::id.desc()).limit(2))
        .returning(posts::id)
        .load(db)
        .unwrap();
    assert_eq!(gone.len(), 2, "{gone:?}");
    assert!(gone.contains(&3) && gone.contains(&2), "{gone:?}");
    assert_eq!(posts::table.count(db).unwrap(), 1);
    // A queue pop: one row, locked, skipping locked ones.
    let popped: Vec<i32> = update(
        users::table
            .filter(users::active.eq(true))
            .order_by(users::id)
            .limit(1)
            .for_update()
            .skip_locked(),
    )
    .set(users::active.eq(false))
    .returning(users::id)
    .load(db)
    .unwrap();
    assert_eq!(popped, [1]);
    // An empty batch inserts nothing.
    let none: Vec<(lifeguard::query::Eq<users::name, lifeguard::query::Bound<Text>>,)> = Vec::new();
    let ids: Vec<i32> = insert_into(users::table)
        .values(none)
        .returning(users::id)
        .load(db)
        .unwrap();
    assert!(ids.is_empty());
    assert_eq!(users::table.count(db).unwrap(), 3);
    // A change set: `None` fields are left alone; nothing to change changes nothing.
    let new_email: Option<String> = Some("bob@example.com".into());
    let new_name: Option<String> = None;
    let n = update(users::table.filter(users::id.eq(2)))
        .set((
            new_name.clone().map(|v| users::name.eq(v)),
            new_email.map(|v| users::email.eq(v)),
        ))
        .execute(db)
        .unwrap();
    assert_eq!(n, 1);
    let bob: User = users::table.filter(users::id.eq(2)).get_result(db).unwrap();
    assert_eq!(
        (bob.name.as_str(), bob.email.as_deref()),
        ("bob", Some("bob@example.com"))
    );
    let n = update(users::table.filter(users::id.eq(2)))
        .set(new_name.map(|v| users::name.eq(v)))
        .execute(db)
        .unwrap();
    assert_eq!(n, 0);
}
