//! `LifeExecutor` over a client and a transaction, and `FromRow` mapping.

mod common;

use lifeguard::client::Error;
use lifeguard::executor::LifeExecutor;

#[derive(Debug, PartialEq)]
struct User {
    id: i64,
    name: String,
    email: Option<String>,
}
lifeguard::from_row!(User { id, name, email });

/// Written once against the trait, used with a client and with a transaction.
fn add_user(db: &impl LifeExecutor, id: i64, name: &str) -> lifeguard::client::Result<u64> {
    db.execute(
        "INSERT INTO users (id, name) VALUES ($1, $2)",
        &[&id, &name],
    )
}

#[test]
fn one_trait_over_client_and_transaction() {
    let (_db, mut c) = common::db();
    c.execute_unprepared(
        "CREATE TABLE users (id int8 PRIMARY KEY, name text NOT NULL, email text)",
    )
    .unwrap();
    assert_eq!(add_user(&c, 1, "ann").unwrap(), 1);
    {
        let tx = c.transaction().unwrap();
        add_user(&tx, 2, "bob").unwrap();
        let (n,): (i64,) = tx.query_one_as("SELECT count(*) FROM users", &[]).unwrap();
        assert_eq!(n, 2, "the transaction sees its own insert");
        // dropped: rolled back
    }
    let (n,): (i64,) = c.query_one_as("SELECT count(*) FROM users", &[]).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn rows_map_into_tuples_and_structs_with_typed_errors() {
    let (_db, c) = common::db();
    c.execute_unprepared(
        "CREATE TABLE users (id int8 PRIMARY KEY, name text NOT NULL, email text);
         INSERT INTO users VALUES (1, 'ann', 'ann@x'), (2, 'bob', NULL)",
    )
    .unwrap();
    // Structs read by name: the SELECT order does not matter.
    let users: Vec<User> = c
        .query_as("SELECT email, name, id FROM users ORDER BY id", &[])
        .unwrap();
    assert_eq!(
        users,
        vec![
            User {
                id: 1,
                name: "ann".into(),
                email: Some("ann@x".into())
            },
            User {
                id: 2,
                name: "bob".into(),
                email: None
            },
        ]
    );
    let pairs: Vec<(i64, String)> = c
        .query_as("SELECT id, name FROM users ORDER BY id", &[])
        .unwrap();
    assert_eq!(pairs, vec![(1, "ann".to_string()), (2, "bob".to_string())]);
    let none: Option<(i64,)> = c
        .query_opt_as("SELECT id FROM users WHERE id = 9", &[])
        .unwrap();
    assert_eq!(none, None);

    // Mismatches are typed errors, not panics.
    let e = c
        .query_as::<(i64,)>("SELECT id, name FROM users", &[])
        .unwrap_err();
    assert!(matches!(e, Error::ColumnNotFound(_)), "{e}");
    let e = c
        .query_as::<(i32, String)>("SELECT id, name FROM users", &[])
        .unwrap_err();
    assert!(matches!(e, Error::FromSql { .. }), "{e}");
    let e = c
        .query_as::<User>("SELECT id, name FROM users", &[])
        .unwrap_err();
    assert!(
        matches!(e, Error::ColumnNotFound(ref c) if c == "email"),
        "{e}"
    );
    #[derive(Debug)]
    struct Strict {
        email: String,
    }
    lifeguard::from_row!(Strict { email });
    let got: Vec<Strict> = c
        .query_as("SELECT email FROM users WHERE email IS NOT NULL", &[])
        .unwrap();
    assert_eq!(got[0].email, "ann@x");
    let e = c
        .query_as::<Strict>("SELECT email FROM users", &[])
        .unwrap_err();
    assert!(matches!(e, Error::FromSql { .. }), "NULL into String: {e}");
    let e = c
        .query_one_as::<(i64,)>("SELECT id FROM users", &[])
        .unwrap_err();
    assert!(matches!(e, Error::RowCount { actual: 2, .. }), "{e}");
}
