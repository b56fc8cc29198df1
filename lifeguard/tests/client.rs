//! The client against a real PostgreSQL server.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use lifeguard::client::{
    Client, Error, IsolationLevel, Kind, Numeric, SqlState, ToSql, TransactionStatus, Type,
};
use lifeguard::testkit::PgServer;

use common::{db, within};

#[test]
fn queries_by_position_and_name_with_typed_errors() {
    let (_db, c) = db();
    c.batch_execute(
        "CREATE TABLE users (id int8 PRIMARY KEY, name text NOT NULL, email text UNIQUE)",
    )
    .unwrap();
    let n = c
        .execute(
            "INSERT INTO users VALUES ($1, $2, $3), ($4, $5, NULL)",
            &[&1i64, &"ann", &"ann@x", &2i64, &"bob"],
        )
        .unwrap();
    assert_eq!(n, 2);
    let row = c
        .query_one("SELECT id, name, email FROM users WHERE id = $1", &[&2i64])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(row.get::<_, &str>("name"), "bob");
    assert_eq!(row.get::<_, Option<String>>("email"), None);
    assert!(
        c.query_opt("SELECT 1 FROM users WHERE id = 99", &[])
            .unwrap()
            .is_none()
    );

    let e = c.query_one("SELECT id FROM users", &[]).unwrap_err();
    assert!(matches!(e, Error::RowCount { actual: 2, .. }), "{e}");
    let e = c.query_opt("SELECT id FROM users", &[]).unwrap_err();
    assert!(matches!(e, Error::RowCount { .. }), "{e}");
    let e = c.query("SELECT $1::int4", &[]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ParameterCount {
                expected: 1,
                given: 0
            }
        ),
        "{e}"
    );
    let e = c.query("SELECT $1::int4", &[&"text"]).unwrap_err();
    assert!(matches!(e, Error::ToSql { index: 1, .. }), "{e}");
    let e = row.try_get::<_, i64>("nope").unwrap_err();
    assert!(matches!(e, Error::ColumnNotFound(_)), "{e}");
    let e = row.try_get::<_, String>("email").unwrap_err();
    assert!(
        matches!(e, Error::FromSql { .. }),
        "NULL into String must fail: {e}"
    );
    let e = row.try_get::<_, i32>("id").unwrap_err();
    assert!(e.to_string().contains("int8"), "{e}");

    let e = c
        .execute("INSERT INTO users VALUES (3, 'cy', 'ann@x')", &[])
        .unwrap_err();
    assert!(e.is_unique_violation());
    assert!(!e.is_connectivity());
    let db_err = e.as_db_error().unwrap();
    assert_eq!(db_err.constraint.as_deref(), Some("users_email_key"));
    assert_eq!(db_err.table.as_deref(), Some("users"));
    assert!(db_err.detail.as_deref().unwrap().contains("ann@x"));

    let e = c
        .execute("INSERT INTO users (id) VALUES (4)", &[])
        .unwrap_err();
    assert_eq!(e.code(), Some(SqlState::NOT_NULL_VIOLATION));
    assert_eq!(e.as_db_error().unwrap().column.as_deref(), Some("name"));

    let e = c.query("SELEC 1", &[]).unwrap_err();
    assert_eq!(e.code(), Some(SqlState::SYNTAX_ERROR));
    assert!(e.as_db_error().unwrap().position.is_some());
    // The connection is fine after errors.
    assert_eq!(
        c.query_one("SELECT count(*) FROM users", &[])
            .unwrap()
            .get::<_, i64>(0),
        2
    );
    assert_eq!(c.transaction_status(), TransactionStatus::Idle);
}

fn round_trip<T>(c: &Client, sql_type: &str, value: T)
where
    T: ToSql + Sync + PartialEq + std::fmt::Debug + for<'a> lifeguard::client::FromSql<'a>,
{
    let sql = format!("SELECT $1::{sql_type}");
    let got: T = c.query_one(sql.as_str(), &[&value]).unwrap().get(0);
    assert_eq!(got, value, "{sql_type}");
    let none: Option<T> = None;
    let got: Option<T> = c.query_one(sql.as_str(), &[&none]).unwrap().get(0);
    assert_eq!(got, None, "NULL {sql_type}");
}

fn round_trip_array<T>(c: &Client, sql_type: &str, values: Vec<Option<T>>)
where
    T: ToSql + Sync + PartialEq + std::fmt::Debug + for<'a> lifeguard::client::FromSql<'a>,
{
    let sql = format!("SELECT $1::{sql_type}[]");
    let got: Vec<Option<T>> = c.query_one(sql.as_str(), &[&values]).unwrap().get(0);
    assert_eq!(got, values, "{sql_type}[]");
    let none: Option<Vec<Option<T>>> = None;
    let got: Option<Vec<Option<T>>> = c.query_one(sql.as_str(), &[&none]).unwrap().get(0);
    assert_eq!(got, None, "NULL {sql_type}[]");
}

#[test]
fn round_trips_every_builtin_type_arrays_and_nulls() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let (_db, c) = db();
    let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let time = chrono::NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456).unwrap();
    let ts = date.and_time(time);
    let tstz = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap();
    let uuid = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let json = serde_json::json!({"a": [1, 2, {"b": null}], "c": "ü"});
    let num: Numeric = "-1234567890.0987654321".parse().unwrap();

    round_trip(&c, "bool", true);
    round_trip(&c, "int2", -32768i16);
    round_trip(&c, "int4", i32::MAX);
    round_trip(&c, "int8", i64::MIN);
    round_trip(&c, "float4", 1.5f32);
    round_trip(&c, "float8", -2.25e300f64);
    round_trip(&c, "numeric", num.clone());
    round_trip(&c, "text", "héllo\u{1F600}".to_string());
    round_trip(&c, "varchar", "varchar value".to_string());
    round_trip(&c, "bytea", vec![0u8, 1, 2, 255]);
    round_trip(&c, "date", date);
    round_trip(&c, "time", time);
    round_trip(&c, "timestamp", ts);
    round_trip(&c, "timestamptz", tstz);
    round_trip(&c, "uuid", uuid);
    round_trip(&c, "json", json.clone());
    round_trip(&c, "jsonb", json.clone());

    round_trip_array(&c, "bool", vec![Some(true), None, Some(false)]);
    round_trip_array(&c, "int2", vec![Some(1i16), None]);
    round_trip_array(&c, "int4", vec![Some(1i32), None, Some(-3)]);
    round_trip_array(&c, "int8", vec![None, Some(9i64)]);
    round_trip_array(&c, "float4", vec![Some(0.5f32), None]);
    round_trip_array(&c, "float8", vec![Some(0.25f64), None]);
    round_trip_array(
        &c,
        "numeric",
        vec![Some(num), None, Some("0.001".parse().unwrap())],
    );
    round_trip_array(&c, "text", vec![Some("a".to_string()), None]);
    round_trip_array(&c, "varchar", vec![Some("b".to_string()), None]);
    round_trip_array(&c, "bytea", vec![Some(vec![1u8]), None]);
    round_trip_array(&c, "date", vec![Some(date), None]);
    round_trip_array(&c, "time", vec![Some(time), None]);
    round_trip_array(&c, "timestamp", vec![Some(ts), None]);
    round_trip_array(&c, "timestamptz", vec![Some(tstz), None]);
    round_trip_array(&c, "uuid", vec![Some(uuid), None]);
    round_trip_array(&c, "json", vec![Some(json.clone()), None]);
    round_trip_array(&c, "jsonb", vec![Some(json), None]);

    // Values read back from a table, not only from parameters.
    c.batch_execute("CREATE TABLE n (v numeric(12,4))").unwrap();
    c.execute("INSERT INTO n VALUES ('12.5'), ('-0.0001'), (NULL)", &[])
        .unwrap();
    let got: Vec<Option<Numeric>> = c
        .query("SELECT v FROM n ORDER BY v NULLS LAST", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        got,
        vec![
            Some("-0.0001".parse().unwrap()),
            Some("12.5000".parse().unwrap()),
            None
        ]
    );
}

/// A user enum mapped by hand (the DSL will generate this later).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mood {
    Sad,
    Happy,
}

impl ToSql for Mood {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<lifeguard::client::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(match self {
            Mood::Sad => b"sad",
            Mood::Happy => b"happy",
        });
        Ok(lifeguard::client::IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood" && matches!(ty.kind(), Kind::Enum(_))
    }

    lifeguard::client::to_sql_checked!();
}

impl<'a> lifeguard::client::FromSql<'a> for Mood {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        match raw {
            b"sad" => Ok(Mood::Sad),
            b"happy" => Ok(Mood::Happy),
            other => Err(format!("unknown mood {}", String::from_utf8_lossy(other)).into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood" && matches!(ty.kind(), Kind::Enum(_))
    }
}

#[test]
fn custom_enums_domains_and_arrays_resolve_by_oid() {
    let (_db, c) = db();
    c.batch_execute(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
         CREATE TABLE diary (id posint PRIMARY KEY, mood mood, moods mood[])",
    )
    .unwrap();
    c.execute(
        "INSERT INTO diary VALUES ($1, $2, $3)",
        &[&7i32, &Mood::Happy, &vec![Mood::Sad, Mood::Happy]],
    )
    .unwrap();
    // Parameters keep the domain (results report its base type).
    let insert = c.prepare("INSERT INTO diary (id) VALUES ($1)").unwrap();
    assert!(matches!(insert.params()[0].kind(), Kind::Domain(t) if *t == Type::INT4));
    assert_eq!(insert.params()[0].name(), "posint");
    let stmt = c.prepare("SELECT id, mood, moods FROM diary").unwrap();
    let kinds: Vec<_> = stmt
        .columns()
        .iter()
        .map(|c| c.type_().kind().clone())
        .collect();
    assert_eq!(stmt.columns()[0].type_(), &Type::INT4);
    assert!(
        matches!(kinds[1], Kind::Enum(ref v) if v == &["sad".to_string(), "happy".to_string()])
    );
    assert!(matches!(kinds[2], Kind::Array(ref t) if t.name() == "mood"));
    let row = c.query_one(&stmt, &[]).unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    assert_eq!(row.get::<_, Mood>(1), Mood::Happy);
    assert_eq!(row.get::<_, Vec<Mood>>(2), vec![Mood::Sad, Mood::Happy]);
    let none: Option<Mood> = c.query_one("SELECT NULL::mood", &[]).unwrap().get(0);
    assert_eq!(none, None);
    let e = c
        .execute("INSERT INTO diary VALUES (-1, 'sad', NULL)", &[])
        .unwrap_err();
    assert_eq!(e.code(), Some(SqlState::CHECK_VIOLATION));
}

#[test]
fn thousand_coroutines_share_one_connection_and_each_gets_its_own_answer() {
    let (_db, c) = db();
    let c = Arc::new(c);
    let handles: Vec<_> = (0..1000i64)
        .map(|i| {
            let c = c.clone();
            may::go!(move || {
                for round in 0..5i64 {
                    let n = (i + round) % 7;
                    let rows = c
                        .query(
                            "SELECT $1::int8 AS who, $2::text AS tag, g FROM generate_series(1, $3::int4) g",
                            &[&i, &format!("caller-{i}-{round}"), &(n as i32)],
                        )
                        .unwrap();
                    assert_eq!(rows.len() as i64, n);
                    for (k, r) in rows.iter().enumerate() {
                        assert_eq!(r.get::<_, i64>("who"), i);
                        assert_eq!(r.get::<_, String>("tag"), format!("caller-{i}-{round}"));
                        assert_eq!(r.get::<_, i32>("g"), k as i32 + 1);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a caller panicked");
    }
}

#[test]
fn explicit_batch_sends_many_statements_in_one_flight() {
    let (_db, c) = db();
    c.batch_execute("CREATE TABLE kv (k int PRIMARY KEY, v text)")
        .unwrap();
    let mut batch = c.batch();
    batch
        .add("INSERT INTO kv VALUES ($1, $2)", &[&1i32, &"one"])
        .add("INSERT INTO kv VALUES ($1, $2)", &[&1i32, &"dup"])
        .add("INSERT INTO kv VALUES ($1, $2)", &[&2i32, &"two"])
        .add("SELECT k, v FROM kv ORDER BY k", &[])
        .add("SELECT $1::int4", &[&"bad param"]);
    assert_eq!(batch.len(), 5);
    let results = batch.run().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0].as_ref().unwrap().rows_affected, 1);
    assert!(results[1].as_ref().unwrap_err().is_unique_violation());
    assert_eq!(results[2].as_ref().unwrap().rows_affected, 1);
    let rows = &results[3].as_ref().unwrap().rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].get::<_, &str>("v"), "two");
    assert!(matches!(results[4], Err(Error::ToSql { .. })));
}

#[test]
fn an_atomic_batch_commits_all_or_nothing() {
    let (_db, c) = db();
    c.batch_execute("CREATE TABLE kv (k int PRIMARY KEY, v text)")
        .unwrap();
    let mut batch = c.batch();
    batch
        .add("INSERT INTO kv VALUES ($1, $2)", &[&1i32, &"one"])
        .add("INSERT INTO kv VALUES ($1, $2)", &[&2i32, &"two"])
        .add("SELECT count(*) FROM kv", &[]);
    let out = batch.run_atomic().unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].rows_affected, 1);
    assert_eq!(
        out[2].rows[0].get::<_, i64>(0),
        2,
        "later statements see earlier ones"
    );

    let mut batch = c.batch();
    batch
        .add("INSERT INTO kv VALUES ($1, $2)", &[&3i32, &"three"])
        .add("INSERT INTO kv VALUES ($1, $2)", &[&1i32, &"duplicate"])
        .add("INSERT INTO kv VALUES ($1, $2)", &[&4i32, &"four"]);
    let e = batch.run_atomic().unwrap_err();
    assert!(e.is_unique_violation(), "{e}");
    let keys: Vec<i32> = c
        .query("SELECT k FROM kv ORDER BY k", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        keys,
        vec![1, 2],
        "nothing of the failed batch was committed"
    );
    assert_eq!(c.transaction_status(), TransactionStatus::Idle);
    assert!(c.batch().run_atomic().unwrap().is_empty());
}

#[test]
fn terminated_backend_fails_every_caller_promptly() {
    let (db, c) = db();
    let c = Arc::new(c);
    let pid = c.backend_pid();
    let (tx, rx) = may::sync::mpsc::channel();
    let spawn = |sql: &'static str| {
        let c = c.clone();
        let tx = tx.clone();
        may::go!(move || {
            let _ = tx.send(c.query(sql, &[]).map(|_| ()));
        });
    };
    // The sleep goes first; once it runs on the server, 19 more requests queue behind it.
    spawn("SELECT pg_sleep(60)");
    let admin = db.connect().unwrap();
    let admin = within(Duration::from_secs(30), move || {
        while !admin
            .query_one(
                "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'",
                &[&pid],
            )
            .unwrap()
            .get::<_, bool>(0)
        {
            may::coroutine::sleep(Duration::from_millis(10));
        }
        admin
    });
    for _ in 0..19 {
        spawn("SELECT 1");
    }
    drop(tx);
    std::thread::sleep(Duration::from_millis(100));
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let mut failures = 0;
    for _ in 0..20 {
        let r = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a caller hung after its connection died");
        let e = r.expect_err("no query can succeed on a terminated connection");
        assert!(
            e.is_connectivity(),
            "expected a connectivity error, got {e}"
        );
        failures += 1;
    }
    assert_eq!(failures, 20);
    assert!(c.is_closed());
    let e = c.query("SELECT 1", &[]).unwrap_err();
    assert!(e.is_connectivity(), "{e}");
}

#[test]
fn statement_timeout_cancels_the_query_on_the_server() {
    let (db, c) = db();
    let pid = c.backend_pid();
    let e = c
        .with_timeout(Duration::from_millis(300))
        .query("SELECT pg_sleep(10)", &[])
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                cancelled: true,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.is_query_canceled());
    // The backend is idle again (the sleep was cancelled, not left running) ...
    let admin = db.connect().unwrap();
    let state: String = admin
        .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap()
        .get(0);
    assert_eq!(state, "idle");
    // ... and the connection keeps working.
    assert_eq!(
        c.query_one("SELECT 1::int4", &[]).unwrap().get::<_, i32>(0),
        1
    );

    // The same from a coroutine.
    let c = Arc::new(c);
    let c2 = c.clone();
    let e = within(Duration::from_secs(30), move || {
        c2.with_timeout(Duration::from_millis(300))
            .query("SELECT pg_sleep(10)", &[])
            .unwrap_err()
    });
    assert!(
        matches!(
            e,
            Error::Timeout {
                cancelled: true,
                ..
            }
        ),
        "{e}"
    );
    let c = Arc::try_unwrap(c).unwrap();
    assert_eq!(
        c.query_one("SELECT 5::int4", &[]).unwrap().get::<_, i32>(0),
        5
    );

    // The connection-wide default deadline works the same way.
    c.set_statement_timeout(Some(Duration::from_millis(200)));
    let e = c.execute("SELECT pg_sleep(10)", &[]).unwrap_err();
    assert!(e.is_timeout(), "{e}");
    c.set_statement_timeout(None);
    assert_eq!(c.statement_timeout(), None);
    c.execute("SELECT pg_sleep(0.01)", &[]).unwrap();
}

#[test]
fn a_cancel_token_cancels_the_running_statement_from_elsewhere() {
    let (db, c) = db();
    let token = c.cancel_token();
    let c = Arc::new(c);
    let c2 = c.clone();
    let running = may::go!(move || c2.query("SELECT pg_sleep(30)", &[]).map(|_| ()));
    // Cancel once the statement is running (a cancel before it starts would be a no-op).
    let admin = db.connect().unwrap();
    let pid = c.backend_pid();
    within(Duration::from_secs(30), move || {
        while !admin
            .query_one(
                "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
                &[&pid],
            )
            .unwrap()
            .get::<_, bool>(0)
        {
            may::coroutine::sleep(Duration::from_millis(10));
        }
    });
    token.cancel().unwrap();
    let e = running.join().unwrap().unwrap_err();
    assert_eq!(e.code(), Some(SqlState::QUERY_CANCELED), "{e}");
    assert!(e.is_query_canceled());
    assert_eq!(
        c.query_one("SELECT 3::int4", &[]).unwrap().get::<_, i32>(0),
        3
    );
}

#[test]
fn copy_a_million_rows_in_and_out() {
    let (_db, mut c) = db();
    c.batch_execute("CREATE TABLE big (id int8, name text)")
        .unwrap();
    let mut copy = c.copy_in("COPY big (id, name) FROM STDIN").unwrap();
    let mut line = String::new();
    for i in 0..1_000_000u64 {
        line.clear();
        line.push_str(&i.to_string());
        line.push_str("\tname-");
        line.push_str(&i.to_string());
        line.push('\n');
        copy.write_all(line.as_bytes()).unwrap();
    }
    assert_eq!(copy.finish().unwrap(), 1_000_000);
    let (count, sum): (i64, lifeguard::client::Numeric) = {
        let r = c
            .query_one("SELECT count(*), sum(id) FROM big", &[])
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(count, 1_000_000);
    assert_eq!(sum.as_str(), "499999500000");

    let mut out = c.copy_out("COPY big TO STDOUT").unwrap();
    let mut lines = 0u64;
    let mut id_sum = 0u64;
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    for l in text.lines() {
        lines += 1;
        id_sum += l.split('\t').next().unwrap().parse::<u64>().unwrap();
    }
    assert_eq!(out.rows(), Some(1_000_000));
    drop(out);
    assert_eq!(lines, 1_000_000);
    assert_eq!(id_sum, 499_999_500_000);

    // An abandoned COPY is aborted and the connection stays usable.
    let mut copy = c.copy_in("COPY big (id, name) FROM STDIN").unwrap();
    copy.write_all(b"1\tnever\n").unwrap();
    drop(copy);
    let n: i64 = c
        .query_one("SELECT count(*) FROM big WHERE name = 'never'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // COPY errors are typed.
    let mut copy = c.copy_in("COPY big (id, name) FROM STDIN").unwrap();
    copy.write_all(b"not-a-number\tx\n").unwrap();
    let e = copy.finish().unwrap_err();
    assert_eq!(e.code(), Some(SqlState::from_code("22P02").unwrap()));
    assert!(c.copy_in("SELECT 1").is_err());
}

#[test]
fn notify_reaches_a_listener() {
    let (db, listener) = db();
    let sender = db.connect().unwrap();
    listener.listen("events").unwrap();
    sender.notify("events", "hello").unwrap();
    let n = listener
        .notifications()
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .expect("the notification arrives");
    assert_eq!(n.channel, "events");
    assert_eq!(n.payload, "hello");
    assert_eq!(n.process_id, sender.backend_pid());

    // Nothing is delivered for a rolled-back transaction, or after UNLISTEN.
    let mut sender = sender;
    let tx = sender.transaction().unwrap();
    tx.notify("events", "rolled back").unwrap();
    tx.rollback().unwrap();
    sender.notify("events", "second").unwrap();
    let n = listener
        .notifications()
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(n.payload, "second");
    listener.unlisten("events").unwrap();
    sender.notify("events", "unheard").unwrap();
    // A round trip on the listener guarantees anything sent before has been read.
    listener.execute("SELECT 1", &[]).unwrap();
    assert_eq!(listener.notifications().try_recv().unwrap(), None);
}

#[test]
fn transactions_commit_roll_back_and_nest() {
    let (_db, mut c) = db();
    c.batch_execute("CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL)")
        .unwrap();

    let tx = c.transaction().unwrap();
    tx.execute("INSERT INTO acct VALUES (1, 100)", &[]).unwrap();
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    tx.commit().unwrap();

    let tx = c.transaction().unwrap();
    tx.execute("INSERT INTO acct VALUES (2, 50)", &[]).unwrap();
    tx.rollback().unwrap();

    {
        let tx = c.transaction().unwrap();
        tx.execute("INSERT INTO acct VALUES (3, 1)", &[]).unwrap();
        // dropped: rolled back
    }
    assert_eq!(
        c.transaction_status(),
        TransactionStatus::Idle,
        "the rollback completed when the transaction was dropped"
    );
    assert_eq!(c.query_one("SELECT 1", &[]).map(|_| ()).ok(), Some(()));
    assert_eq!(c.transaction_status(), TransactionStatus::Idle);
    let ids: Vec<i32> = c
        .query("SELECT id FROM acct ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1]);

    // Savepoints: the inner rollback keeps the outer work.
    let mut tx = c.transaction().unwrap();
    tx.execute("UPDATE acct SET bal = bal - 10 WHERE id = 1", &[])
        .unwrap();
    {
        let inner = tx.transaction().unwrap();
        inner
            .execute("UPDATE acct SET bal = 0 WHERE id = 1", &[])
            .unwrap();
        let mut inner = inner;
        {
            let deeper = inner.savepoint("deeper").unwrap();
            deeper
                .execute("INSERT INTO acct VALUES (9, 9)", &[])
                .unwrap();
            deeper.commit().unwrap();
        }
        inner.rollback().unwrap();
    }
    tx.commit().unwrap();
    let bal: i32 = c
        .query_one("SELECT bal FROM acct WHERE id = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(bal, 90);
    assert!(
        c.query_opt("SELECT 1 FROM acct WHERE id = 9", &[])
            .unwrap()
            .is_none()
    );

    // A failed statement leaves the transaction failed until rollback.
    let tx = c.transaction().unwrap();
    assert!(tx.execute("INSERT INTO acct VALUES (1, 1)", &[]).is_err());
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    let e = tx.execute("SELECT 1", &[]).unwrap_err();
    assert_eq!(e.code(), Some(SqlState::IN_FAILED_SQL_TRANSACTION));
    drop(tx);
    assert_eq!(
        c.query_one("SELECT 1::int4", &[]).unwrap().get::<_, i32>(0),
        1
    );
    assert_eq!(c.transaction_status(), TransactionStatus::Idle);

    // Options: isolation level, read only, deferrable.
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .read_only(true)
        .deferrable(true)
        .start()
        .unwrap();
    let iso: String = tx
        .query_one("SHOW transaction_isolation", &[])
        .unwrap()
        .get(0);
    assert_eq!(iso, "serializable");
    let e = tx
        .execute("INSERT INTO acct VALUES (5, 5)", &[])
        .unwrap_err();
    assert_eq!(e.code(), Some(SqlState::from_code("25006").unwrap()));
    tx.rollback().unwrap();
}

#[test]
fn connects_over_the_unix_socket_when_the_server_is_ours() {
    if std::env::var(lifeguard::testkit::DATABASE_URL_ENV).is_ok() {
        // An external server's socket directory is unknown; nothing to check here.
        return;
    }
    let server = PgServer::shared().unwrap();
    let c = lifeguard::client::connect(&server.socket_url("postgres")).unwrap();
    let addr: Option<String> = c
        .query_one("SELECT inet_client_addr()::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(addr, None, "a Unix-socket session has no client address");
}

#[test]
fn connect_failures_are_typed_and_bounded() {
    // Nothing listens: refused at once.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let e = lifeguard::client::connect(&format!("postgres://u@127.0.0.1:{port}/db")).unwrap_err();
    assert!(
        matches!(e, Error::Connect { .. }) && e.is_connectivity(),
        "{e}"
    );

    // Something accepts TCP but never speaks: the connect timeout fires.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let e = within(Duration::from_secs(30), move || {
        lifeguard::client::connect(&format!(
            "postgres://u@127.0.0.1:{port}/db?connect_timeout=1&sslmode=disable"
        ))
        .unwrap_err()
    });
    assert!(e.to_string().contains("timeout"), "{e}");
    drop(silent);

    // A database that does not exist is a server error with its SQLSTATE.
    let (db, _c) = db();
    let mut cfg = db.config().unwrap();
    cfg.dbname("no_such_database");
    let e = Client::connect(&cfg).unwrap_err();
    assert_eq!(e.code(), Some(SqlState::INVALID_CATALOG_NAME), "{e}");
    assert!(e.to_string().contains("no_such_database"));

    // Bad URLs say what to fix.
    let e = lifeguard::client::connect("postgres://h/db?sslmode=maybe").unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
}

#[test]
fn streaming_rows_and_prepared_statements() {
    let (_db, c) = db();
    let stmt = c
        .prepare("SELECT g, repeat('x', $2) FROM generate_series(1, $1) g")
        .unwrap();
    assert_eq!(stmt.params(), &[Type::INT4, Type::INT4]);
    assert_eq!(stmt.columns().len(), 2);
    let mut stream = c.query_raw(&stmt, &[&10_000i32, &10i32]).unwrap();
    let mut n = 0;
    for row in stream.by_ref() {
        let row = row.unwrap();
        n += 1;
        assert_eq!(row.get::<_, i32>(0), n);
    }
    assert_eq!(n, 10_000);
    assert_eq!(stream.rows_affected(), Some(10_000));
    drop(stream);
    // Dropping a stream early discards the rest and keeps the connection in sync.
    let mut stream = c
        .query_raw("SELECT g FROM generate_series(1, 100000) g", &[])
        .unwrap();
    let first = stream.next().unwrap().unwrap();
    assert_eq!(first.get::<_, i32>(0), 1);
    drop(stream);
    assert_eq!(
        c.query_one("SELECT 7::int4", &[]).unwrap().get::<_, i32>(0),
        7
    );
    // A dropped statement is closed with the next request, whatever that request is.
    for i in 0..3 {
        drop(c.prepare(&format!("SELECT {i}")).unwrap());
        let fresh = c.prepare("SELECT 'fresh'::text").unwrap();
        assert_eq!(c.query_one(&fresh, &[]).unwrap().get::<_, &str>(0), "fresh");
    }
    drop(c.prepare("SELECT 42").unwrap());
    c.batch_execute("SELECT 1").unwrap();
    let closed: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT 42'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(closed, 0, "the dropped statement was closed on the server");
    // Server-side errors in the middle of a stream surface as items.
    let results: Vec<_> = c
        .query_raw("SELECT 1 / (3 - g) FROM generate_series(1, 5) g", &[])
        .unwrap()
        .collect();
    assert!(
        results
            .last()
            .unwrap()
            .as_ref()
            .is_err_and(|e| e.code() == Some(SqlState::from_code("22012").unwrap()))
    );
}
