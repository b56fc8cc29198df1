//! The SQL the query builder writes, for every feature, and the values it binds.

use lifeguard_schema::query::dsl::*;
use lifeguard_schema::query::{SqlQuery, into_sql};
use lifeguard_schema::sql_types::{Bool, Int4, Text};

pub mod schema {
    lifeguard_schema::sql_enum! {
        /// A post's state.
        pub enum PostState = "post_state" { Draft = "draft", Published = "published" }
    }

    lifeguard_schema::table! {
        users (id) {
            id -> Int4,
            name -> Text,
            email -> Nullable<Text>,
            active -> Bool,
        }
    }

    lifeguard_schema::table! {
        use lifeguard_schema::sql_types::*;
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

    lifeguard_schema::table! {
        comments (id) {
            id -> Int8,
            post_id -> Int8,
            body -> Text,
        }
    }

    lifeguard_schema::table! {
        app.audit (id) {
            id -> Int8,
        }
    }

    lifeguard_schema::table! {
        /// A CTE's shape.
        top_posts (id) {
            id -> Int8,
            views -> Int4,
        }
    }

    lifeguard_schema::joinable!(posts -> users (author_id));
    lifeguard_schema::joinable!(comments -> posts (post_id));
}

use schema::*;

fn text(q: SqlQuery) -> (String, usize) {
    (q.sql, q.params.len())
}

fn params(q: &SqlQuery) -> String {
    format!("{:?}", q.params)
}

const U: &str = r#""users"."id", "users"."name", "users"."email", "users"."active""#;

#[test]
fn select_all_columns_by_default() {
    let (s, n) = text(users::table.query().to_sql());
    assert_eq!(s, format!(r#"SELECT {U} FROM "users""#));
    assert_eq!(n, 0);
}

#[test]
fn select_columns_tuples_and_expressions() {
    let q = users::table
        .select((users::id, users::name.concat("!"), users::id + 1))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id", "users"."name" || $1, "users"."id" + $2 FROM "users""#
    );
    assert_eq!(params(&q), r#"["!", 1]"#);
}

#[test]
fn every_comparison() {
    let q = posts::table
        .select(posts::id)
        .filter(posts::views.eq(1))
        .filter(posts::views.ne(2))
        .filter(posts::views.gt(3))
        .filter(posts::views.ge(4))
        .filter(posts::views.lt(5))
        .filter(posts::views.le(6))
        .filter(posts::title.like("a%"))
        .filter(posts::title.ilike("b%"))
        .filter(posts::title.not_like("c%"))
        .filter(posts::views.between(1, 9))
        .filter(posts::score.is_null())
        .filter(posts::score.is_not_null())
        .filter(posts::author_id.eq_any(vec![1, 2, 3]))
        .filter(posts::author_id.ne_all(vec![4]))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"SELECT "posts"."id" FROM "posts" WHERE "posts"."views" = $1 AND "posts"."views" <> $2"#,
            r#" AND "posts"."views" > $3 AND "posts"."views" >= $4 AND "posts"."views" < $5"#,
            r#" AND "posts"."views" <= $6 AND "posts"."title" LIKE $7 AND ("posts"."title" ILIKE $8)"#,
            r#" AND "posts"."title" NOT LIKE $9 AND ("posts"."views" BETWEEN $10 AND $11)"#,
            r#" AND "posts"."score" IS NULL AND "posts"."score" IS NOT NULL"#,
            r#" AND ("posts"."author_id" = ANY($12)) AND ("posts"."author_id" <> ALL($13))"#
        )
    );
    assert_eq!(
        params(&q),
        r#"[1, 2, 3, 4, 5, 6, "a%", "b%", "c%", 1, 9, [1, 2, 3], [4]]"#
    );
}

#[test]
fn and_or_not_group_correctly() {
    let q = users::table
        .select(users::id)
        .filter(
            users::active
                .eq(true)
                .and(users::name.eq("a").or(users::name.eq("b"))),
        )
        .filter(not(users::email.is_null()))
        .or_filter(users::id.eq(7))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"SELECT "users"."id" FROM "users" WHERE ("users"."active" = $1 AND ("users"."name" = $2 OR "users"."name" = $3)"#,
            r#" AND (NOT "users"."email" IS NULL)) OR "users"."id" = $4"#
        )
    );
}

#[test]
fn arithmetic() {
    let q = posts::table
        .select((posts::views * 2 - 1, posts::views / 3))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT ("posts"."views" * $1) - $2, "posts"."views" / $3 FROM "posts""#
    );
}

#[test]
fn ordering_limit_offset() {
    let q = posts::table
        .select(posts::id)
        .order_by((posts::score.desc().nulls_last(), posts::id.asc()))
        .then_order_by(posts::title)
        .limit(10)
        .offset(20)
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "posts"."id" FROM "posts" ORDER BY "posts"."score" DESC NULLS LAST, "posts"."id" ASC, "posts"."title" ASC LIMIT $1 OFFSET $2"#
    );
    assert_eq!(params(&q), "[10, 20]");
}

#[test]
fn distinct_and_distinct_on() {
    let q = posts::table.select(posts::author_id).distinct().to_sql();
    assert_eq!(q.sql, r#"SELECT DISTINCT "posts"."author_id" FROM "posts""#);
    let q = posts::table
        .select((posts::author_id, posts::id))
        .distinct_on(posts::author_id)
        .order_by((posts::author_id, posts::views.desc()))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT DISTINCT ON ("posts"."author_id") "posts"."author_id", "posts"."id" FROM "posts" ORDER BY "posts"."author_id" ASC, "posts"."views" DESC"#
    );
}

#[test]
fn group_by_having_aggregates() {
    let q = posts::table
        .select((
            posts::author_id,
            count_star(),
            count(posts::score),
            sum(posts::views),
            avg(posts::views),
            min(posts::views),
            max(posts::score),
        ))
        .group_by(posts::author_id)
        .having(count_star().gt(1_i64))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"SELECT "posts"."author_id", COUNT(*), COUNT("posts"."score"), SUM("posts"."views"),"#,
            r#" AVG("posts"."views"), MIN("posts"."views"), MAX("posts"."score") FROM "posts""#,
            r#" GROUP BY "posts"."author_id" HAVING COUNT(*) > $1"#
        )
    );
}

#[test]
fn joins_along_relations_both_ways_and_chained() {
    let q = users::table
        .inner_join(posts::table)
        .inner_join(comments::table)
        .select((users::name, posts::title, comments::body))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"SELECT "users"."name", "posts"."title", "comments"."body" FROM "users""#,
            r#" INNER JOIN "posts" ON "posts"."author_id" = "users"."id""#,
            r#" INNER JOIN "comments" ON "comments"."post_id" = "posts"."id""#
        )
    );
    let q = posts::table
        .inner_join(users::table)
        .select((posts::id, users::name))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "posts"."id", "users"."name" FROM "posts" INNER JOIN "users" ON "posts"."author_id" = "users"."id""#
    );
}

#[test]
fn left_join_reads_nullable_columns() {
    let q = users::table
        .left_join(posts::table)
        .select((users::id, posts::title.nullable()))
        .filter(posts::views.nullable().gt(3))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id", "posts"."title" FROM "users" LEFT JOIN "posts" ON "posts"."author_id" = "users"."id" WHERE "posts"."views" > $1"#
    );
    fn loads<
        Q: lifeguard_schema::query::LoadQuery,
        U: lifeguard_schema::query::Queryable<Q::SqlType>,
    >(
        _q: Q,
    ) {
    }
    loads::<_, (i32, Option<String>)>(
        users::table
            .left_join(posts::table)
            .select((users::id, posts::title.nullable())),
    );
}

#[test]
fn explicit_join_condition() {
    let q = users::table
        .query()
        .inner_join_on(
            comments::table,
            comments::body.eq(users::name).and(users::active.eq(true)),
        )
        .select(comments::id)
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "comments"."id" FROM "users" INNER JOIN "comments" ON "comments"."body" = "users"."name" AND "users"."active" = $1"#
    );
}

#[test]
fn subqueries_in_exists_scalar() {
    let q = users::table
        .select(users::id)
        .filter(
            users::id.eq_any_subquery(
                posts::table
                    .select(posts::author_id)
                    .filter(posts::views.gt(10)),
            ),
        )
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "posts"."author_id" FROM "posts" WHERE "posts"."views" > $1)"#
    );
    let q = users::table
        .select(users::id)
        .filter(exists(
            posts::table
                .correlate(users::table)
                .select(posts::id)
                .filter(posts::author_id.eq(users::id)),
        ))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id" FROM "users" WHERE EXISTS(SELECT "posts"."id" FROM "posts" WHERE "posts"."author_id" = "users"."id")"#
    );
    let q = users::table
        .select((
            users::id,
            posts::table
                .correlate(users::table)
                .select(count_star())
                .filter(posts::author_id.eq(users::id))
                .single_value(),
        ))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id", (SELECT COUNT(*) FROM "posts" WHERE "posts"."author_id" = "users"."id") FROM "users""#
    );
}

#[test]
fn common_table_expressions() {
    let q = top_posts::table
        .query()
        .with(
            top_posts::table,
            posts::table
                .select((posts::id, posts::views))
                .order_by(posts::views.desc())
                .limit(3),
        )
        .select(top_posts::id)
        .filter(top_posts::views.gt(0))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"WITH "top_posts" ("id", "views") AS (SELECT "posts"."id", "posts"."views" FROM "posts" ORDER BY "posts"."views" DESC LIMIT $1)"#,
            r#" SELECT "top_posts"."id" FROM "top_posts" WHERE "top_posts"."views" > $2"#
        )
    );
    assert_eq!(params(&q), "[3, 0]");
}

#[test]
fn window_functions() {
    let q = posts::table
        .select((
            posts::id,
            row_number().over(
                window()
                    .partition_by(posts::author_id)
                    .order_by(posts::views.desc()),
            ),
            rank().over(window().order_by(posts::views)),
            sum(posts::views).over(window().partition_by(posts::author_id)),
        ))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"SELECT "posts"."id", row_number() OVER (PARTITION BY "posts"."author_id" ORDER BY "posts"."views" DESC),"#,
            r#" rank() OVER (ORDER BY "posts"."views" ASC), SUM("posts"."views") OVER (PARTITION BY "posts"."author_id") FROM "posts""#
        )
    );
}

#[test]
fn locking() {
    let q = posts::table
        .select(posts::id)
        .for_update()
        .skip_locked()
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "posts"."id" FROM "posts" FOR UPDATE SKIP LOCKED"#
    );
    let q = posts::table
        .select(posts::id)
        .for_share()
        .no_wait()
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "posts"."id" FROM "posts" FOR SHARE NOWAIT"#
    );
}

#[test]
fn schema_qualified_tables() {
    let q = audit::table.filter(audit::id.eq(1_i64)).to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "app"."audit"."id" FROM "app"."audit" WHERE "app"."audit"."id" = $1"#
    );
}

#[test]
fn insert_one_many_defaults_returning() {
    let q = insert_into(users::table)
        .values((
            users::name.eq("ann"),
            users::email.eq(None::<String>),
            users::active.eq(true),
        ))
        .returning(users::id)
        .to_sql();
    assert_eq!(
        q.sql,
        r#"INSERT INTO "users" ("name", "email", "active") VALUES ($1, $2, $3) RETURNING "users"."id""#
    );
    assert_eq!(params(&q), r#"["ann", None, true]"#);
    let rows = vec![
        (users::name.eq("a"), Some(users::email.eq("a@x"))),
        (users::name.eq("b"), None),
    ];
    let q = insert_into(users::table).values(rows).to_sql();
    assert_eq!(
        q.sql,
        r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2), ($3, DEFAULT)"#
    );
    let q = insert_into(users::table).to_sql();
    assert_eq!(q.sql, r#"INSERT INTO "users" VALUES (DEFAULT)"#);
    let q = insert_into(users::table)
        .values(users::active.eq(default_value()))
        .to_sql();
    assert_eq!(q.sql, r#"INSERT INTO "users" ("active") VALUES (DEFAULT)"#);
}

#[test]
fn insert_on_conflict() {
    let q = insert_into(users::table)
        .values((users::id.eq(1), users::name.eq("a")))
        .on_conflict_do_nothing(users::id)
        .to_sql();
    assert_eq!(
        q.sql,
        r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) ON CONFLICT ("id") DO NOTHING"#
    );
    let q = insert_into(posts::table)
        .values((posts::id.eq(1_i64), posts::views.eq(1)))
        .on_conflict_do_update(
            posts::id,
            posts::views.eq(posts::views + excluded(posts::views)),
        )
        .returning((posts::id, posts::views))
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"INSERT INTO "posts" ("id", "views") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE"#,
            r#" SET "views" = "posts"."views" + "excluded"."views" RETURNING "posts"."id", "posts"."views""#
        )
    );
}

#[test]
fn update_and_delete() {
    let q = update(posts::table)
        .set((posts::title.eq("t"), posts::views.eq(posts::views + 1)))
        .filter(posts::id.eq(3_i64))
        .returning(posts::views)
        .to_sql();
    assert_eq!(
        q.sql,
        r#"UPDATE "posts" SET "title" = $1, "views" = "posts"."views" + $2 WHERE "posts"."id" = $3 RETURNING "posts"."views""#
    );
    let q = delete(posts::table.filter(posts::views.lt(1)))
        .returning(posts::id)
        .to_sql();
    assert_eq!(
        q.sql,
        r#"DELETE FROM "posts" WHERE "posts"."views" < $1 RETURNING "posts"."id""#
    );
}

#[test]
fn raw_fragments_bind_values() {
    let q = users::table
        .select((
            users::id,
            sql::<Text>("upper(").bind::<Text, _>("x'; --").sql(")"),
        ))
        .filter(sql::<Bool>("\"users\".\"id\" % 2 = ").bind::<Int4, _>(0))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id", upper( $1 ) FROM "users" WHERE "users"."id" % 2 =  $2"#
    );
    assert_eq!(params(&q), r#"["x'; --", 0]"#);
}

#[test]
fn casts_and_coalesce() {
    let q = users::table
        .select((into_sql::<Int4, _>(5), coalesce(users::email, "none")))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT CAST($1 AS int4), coalesce("users"."email", $2) FROM "users""#
    );
}

#[test]
fn enums_and_arrays_bind_as_values() {
    let q = posts::table
        .select(posts::id)
        .filter(posts::state.eq(PostState::Published))
        .filter(posts::tags.eq(vec!["a".to_string()]))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "posts"."id" FROM "posts" WHERE "posts"."state" = $1 AND "posts"."tags" = $2"#
    );
    assert_eq!(params(&q), r#"[Published, ["a"]]"#);
}

#[test]
fn same_shape_same_text() {
    let a = users::table.filter(users::id.eq(1)).limit(1).to_sql();
    let b = users::table.filter(users::id.eq(99)).limit(5).to_sql();
    assert_eq!(a.sql, b.sql);
    let a = posts::table
        .filter(posts::author_id.eq_any(vec![1]))
        .to_sql();
    let b = posts::table
        .filter(posts::author_id.eq_any(vec![1, 2, 3, 4]))
        .to_sql();
    assert_eq!(a.sql, b.sql, "eq_any binds one array whatever its length");
}

#[test]
fn no_value_is_ever_inlined() {
    let evil = "'; DROP TABLE users; --\0";
    let q = users::table
        .filter(users::name.eq(evil))
        .filter(users::name.like(evil))
        .filter(
            sql::<Bool>("true AND ")
                .bind::<Text, _>(evil)
                .sql(" IS NOT NULL"),
        )
        .to_sql();
    assert!(!q.sql.contains("DROP"), "{}", q.sql);
    assert_eq!(q.params.len(), 3);
}

/// Builds the query twice on this thread (the second from the per-thread cache of rendered
/// shapes) and once on a fresh thread (rendered by sea-query): text and values must agree.
fn hit_equals_miss(build: fn(i32) -> SqlQuery) {
    let first = build(1);
    let hit = build(2);
    let miss = std::thread::spawn(move || build(2)).join().unwrap();
    assert_eq!(format!("{hit:?}"), format!("{miss:?}"));
    assert_eq!(first.sql, hit.sql);
    assert_ne!(params(&first), params(&hit), "the values are the new ones");
}

#[test]
fn cached_shapes_bind_the_new_values_in_order() {
    hit_equals_miss(|v| {
        posts::table
            .select((posts::id, posts::views + v))
            .filter(
                posts::views
                    .between(v, v + 10)
                    .and(posts::title.like(format!("{v}%"))),
            )
            .filter(posts::author_id.eq_any(vec![v, v + 1]))
            .order_by(posts::id.desc())
            .limit(v.into())
            .offset((v * 2).into())
            .to_sql()
    });
    hit_equals_miss(|v| {
        top_posts::table
            .query()
            .with(
                top_posts::table,
                posts::table
                    .select((posts::id, posts::views))
                    .filter(posts::views.gt(v))
                    .limit((v + 5).into()),
            )
            .select(top_posts::id)
            .filter(top_posts::views.lt(v * 3))
            .limit((v + 7).into())
            .to_sql()
    });
    hit_equals_miss(|v| {
        users::table
            .select((
                users::id,
                posts::table
                    .correlate(users::table)
                    .select(count_star())
                    .filter(posts::author_id.eq(users::id).and(posts::views.gt(v)))
                    .single_value(),
            ))
            .filter(users::id.gt(v * 10))
            .filter(exists(
                posts::table
                    .correlate(users::table)
                    .select(posts::id)
                    .filter(posts::views.eq(v * 100)),
            ))
            .filter(
                users::id.eq_any_subquery(
                    posts::table
                        .select(posts::author_id)
                        .filter(posts::views.ne(v * 1000)),
                ),
            )
            .to_sql()
    });
    hit_equals_miss(|v| {
        users::table
            .select(
                sql::<Text>("upper(")
                    .bind::<Text, _>(format!("x{v}"))
                    .sql(")"),
            )
            .filter(users::id.eq(v))
            .count_sql()
    });
    hit_equals_miss(|v| {
        insert_into(posts::table)
            .values(vec![
                (posts::id.eq(i64::from(v)), posts::views.eq(v + 1)),
                (posts::id.eq(i64::from(v) + 2), posts::views.eq(v + 3)),
            ])
            .on_conflict_do_update(posts::id, posts::views.eq(posts::views + v * 5))
            .returning((posts::id, posts::views * v))
            .to_sql()
    });
    hit_equals_miss(|v| {
        update(posts::table.filter(posts::id.eq(i64::from(v))))
            .set((
                posts::views.eq(posts::views + v),
                posts::title.eq(format!("t{v}")),
            ))
            .returning(posts::views - v)
            .to_sql()
    });
    hit_equals_miss(|v| {
        delete(posts::table)
            .filter(posts::views.lt(v).or(posts::author_id.eq(v + 1)))
            .returning(posts::id)
            .to_sql()
    });
}

#[test]
fn raw_text_is_part_of_the_shape() {
    let a = users::table.filter(sql::<Bool>("true")).to_sql();
    let b = users::table.filter(sql::<Bool>("false")).to_sql();
    assert!(a.sql.ends_with("WHERE true"), "{}", a.sql);
    assert!(b.sql.ends_with("WHERE false"), "{}", b.sql);
}

pub mod fk_schema {
    lifeguard_schema::table! {
        people (id) {
            id -> Int4,
            name -> Text,
        }

        letters (id) {
            id -> Int8,
            #[references(people(id), on_delete = cascade)]
            sender_id -> Int4,
            // Two foreign keys to the same table: each column is its own relation.
            #[references(people(id))]
            recipient_id -> Int4,
        }
    }
}

#[test]
fn foreign_key_columns_are_relations() {
    use fk_schema::{letters, people};
    let q = letters::table
        .inner_join_via(letters::sender_id)
        .select((letters::id, people::name))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "letters"."id", "people"."name" FROM "letters" INNER JOIN "people" ON "letters"."sender_id" = "people"."id""#
    );
    let q = people::table
        .left_join_referencing(letters::recipient_id)
        .select((people::name, letters::id.nullable()))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "people"."name", "letters"."id" FROM "people" LEFT JOIN "letters" ON "letters"."recipient_id" = "people"."id""#
    );
}

#[test]
fn remaining_functions_and_clauses() {
    let q = users::table
        .select((
            lower(users::name),
            upper(users::name),
            count_distinct(users::email),
            dense_rank().over(window().order_by(users::id.desc().nulls_first())),
            users::id.cast::<lifeguard_schema::sql_types::Int8>(),
        ))
        .group_by((users::name, users::id))
        .for_no_key_update()
        .to_sql();
    assert_eq!(
        q.sql,
        concat!(
            r#"SELECT LOWER("users"."name"), UPPER("users"."name"), COUNT(DISTINCT "users"."email"),"#,
            r#" dense_rank() OVER (ORDER BY "users"."id" DESC NULLS FIRST), CAST("users"."id" AS int8)"#,
            r#" FROM "users" GROUP BY "users"."name", "users"."id" FOR NO KEY UPDATE"#
        )
    );
    let q = users::table
        .query()
        .left_join_on(posts::table, posts::author_id.eq(users::id))
        .select((users::id, posts::views.nullable()))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id", "posts"."views" FROM "users" LEFT JOIN "posts" ON "posts"."author_id" = "users"."id""#
    );
}

#[test]
fn write_targets_with_a_limit_write_exactly_the_selected_rows() {
    let q = delete(
        posts::table
            .filter(posts::views.lt(5))
            .order_by(posts::id)
            .limit(100),
    )
    .to_sql();
    assert_eq!(
        q.sql,
        r#"DELETE FROM "posts" WHERE "posts"."ctid" IN (SELECT "posts"."ctid" FROM "posts" WHERE "posts"."views" < $1 ORDER BY "posts"."id" ASC LIMIT $2)"#
    );
    assert_eq!(params(&q), "[5, 100]");
    let q = update(
        posts::table
            .filter(posts::views.lt(5))
            .for_update()
            .skip_locked()
            .limit(1),
    )
    .set(posts::views.eq(0))
    .to_sql();
    assert!(
        q.sql
            .contains(r#"WHERE "posts"."ctid" IN (SELECT "posts"."ctid" FROM "posts""#),
        "{}",
        q.sql
    );
    assert!(q.sql.contains("FOR UPDATE SKIP LOCKED"), "{}", q.sql);
}

#[test]
fn empty_batches_and_empty_updates_write_nothing() {
    let none: Vec<lifeguard_schema::query::Eq<users::name, lifeguard_schema::query::Bound<Text>>> =
        Vec::new();
    let q = insert_into(users::table).values(none).to_sql();
    assert_eq!(
        q.sql,
        r#"INSERT INTO "users" ("name") SELECT NULL WHERE false"#
    );
    let name: Option<String> = None;
    let q = update(users::table)
        .set((name.map(|n| users::name.eq(n)), users::active.eq(true)))
        .to_sql();
    assert_eq!(
        q.sql, r#"UPDATE "users" SET "active" = $1"#,
        "a None change is skipped"
    );
    let nothing: Option<String> = None;
    let q = update(users::table.filter(users::id.eq(1)))
        .set(nothing.map(|n| users::name.eq(n)))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"UPDATE "users" SET "id" = "users"."id" WHERE false"#
    );
}

#[test]
fn operands_of_templates_are_parenthesized() {
    let q = users::table
        .select(users::id)
        .filter(users::active.eq(true).eq_any(vec![true]))
        .filter((users::id + 1).between(2, users::id * 3))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id" FROM "users" WHERE (("users"."active" = $1) = ANY($2)) AND (("users"."id" + $3) BETWEEN $4 AND ("users"."id" * $5))"#
    );
}

#[test]
fn long_filter_chains_do_not_need_a_deep_stack() {
    // Coroutine stacks are small. Filters are kept as a list (one `and_where` each), so a
    // long chain of `filter` calls renders at the same stack depth as a short one; the same
    // chain as nested `AND`s of this length overflows this stack.
    let build = |n: i32| {
        let mut q = users::table.select(users::id);
        for i in 0..n {
            q = q.filter(users::id.ne(i));
        }
        q.to_sql()
    };
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            (
                build(3000),
                delete(users::table.filter(users::id.gt(0)))
                    .filter(users::id.lt(9))
                    .to_sql(),
            )
        })
        .unwrap();
    let (q, d) = handle.join().expect("no stack overflow");
    assert_eq!(q.params.len(), 3000);
    assert!(
        q.sql.ends_with(r#"AND "users"."id" <> $3000"#),
        "{}",
        &q.sql[q.sql.len() - 60..]
    );
    assert_eq!(
        d.sql,
        r#"DELETE FROM "users" WHERE "users"."id" > $1 AND "users"."id" < $2"#
    );
}

#[test]
fn several_conditions_keep_their_precedence() {
    let q = users::table
        .select(users::id)
        .filter(users::active.eq(true).or(users::name.eq("x")))
        .filter(sql::<Bool>("true OR false"))
        .filter(users::id.gt(1))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id" FROM "users" WHERE ("users"."active" = $1 OR "users"."name" = $2) AND (true OR false) AND "users"."id" > $3"#
    );
}
