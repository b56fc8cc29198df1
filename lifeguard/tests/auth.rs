//! Every authentication method, on a throwaway cluster whose pg_hba.conf the test writes.

use lifeguard::client::{Error, SqlState};
use lifeguard::testkit::PgServer;

fn server() -> PgServer {
    let server = PgServer::builder()
        .hba([
            "local all all trust",
            "host all postgres 127.0.0.1/32 trust",
            "host all trust_user 127.0.0.1/32 trust",
            "host all clear_user 127.0.0.1/32 password",
            "host all md5_user 127.0.0.1/32 md5",
            "host all scram_user 127.0.0.1/32 scram-sha-256",
        ])
        .start()
        .expect("start a cluster for authentication tests");
    let admin = lifeguard::client::connect(&server.socket_url("postgres")).unwrap();
    admin
        .batch_execute(
            "CREATE ROLE trust_user LOGIN;
             SET password_encryption = 'md5';
             CREATE ROLE md5_user LOGIN PASSWORD 'md5 secret';
             SET password_encryption = 'scram-sha-256';
             CREATE ROLE scram_user LOGIN PASSWORD 'scr@m:secret';
             CREATE ROLE clear_user LOGIN PASSWORD 'clear secret';",
        )
        .unwrap();
    server
}

fn url(server: &PgServer, userinfo: &str) -> String {
    format!(
        "postgres://{userinfo}@127.0.0.1:{}/postgres?sslmode=disable",
        server.port()
    )
}

fn who(url: &str) -> String {
    let c = lifeguard::client::connect(url).unwrap_or_else(|e| panic!("connect {url}: {e}"));
    c.query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0)
}

#[test]
fn each_method_authenticates_and_wrong_passwords_are_typed() {
    let s = server();
    assert_eq!(who(&url(&s, "trust_user")), "trust_user");
    assert_eq!(who(&url(&s, "clear_user:clear%20secret")), "clear_user");
    assert_eq!(who(&url(&s, "md5_user:md5%20secret")), "md5_user");
    assert_eq!(who(&url(&s, "scram_user:scr%40m%3Asecret")), "scram_user");
    // The stored verifiers really are of the kind the method needs.
    let admin = lifeguard::client::connect(&s.socket_url("postgres")).unwrap();
    let kinds: Vec<(String, String)> = admin
        .query(
            "SELECT rolname::text, left(rolpassword, 5) FROM pg_authid WHERE rolname IN ('md5_user', 'scram_user') ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        kinds[0],
        ("md5_user".into(), "md5".to_owned() + &kinds[0].1[3..])
    );
    assert_eq!(kinds[1].1, "SCRAM");

    for (userinfo, user) in [
        ("scram_user:wrong", "scram_user"),
        ("md5_user:wrong", "md5_user"),
        ("clear_user:wrong", "clear_user"),
    ] {
        let e = lifeguard::client::connect(&url(&s, userinfo)).unwrap_err();
        match &e {
            Error::Auth {
                user: u, database, ..
            } => {
                assert_eq!(u, user);
                assert_eq!(database, "postgres");
            }
            other => panic!("expected an authentication error, got {other}"),
        }
        assert_eq!(e.code(), Some(SqlState::INVALID_PASSWORD), "{e}");
        let text = e.to_string();
        assert!(text.contains(user) && text.contains("postgres"), "{text}");
        assert!(
            !text.contains("wrong"),
            "the password must not leak: {text}"
        );
    }

    let e = lifeguard::client::connect(&url(&s, "scram_user")).unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e}");
    assert!(e.to_string().contains("none was configured"), "{e}");

    let e = lifeguard::client::connect(&url(&s, "nobody")).unwrap_err();
    assert_eq!(
        e.code(),
        Some(SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        "no pg_hba.conf entry: {e}"
    );
}
