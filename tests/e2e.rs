//! End to end: the testkit's throwaway servers as a user's test suite sees them.

use std::io::{Read, Write};
use std::time::Duration;

use lifeguard::testkit::{TestDatabase, admin_url, redis_url};

#[test]
fn each_test_database_is_isolated_and_dropped_afterwards() {
    let a = TestDatabase::create().unwrap();
    let b = TestDatabase::create().unwrap();
    assert_ne!(a.name(), b.name());
    let ca = a.connect().unwrap();
    let cb = b.connect().unwrap();
    ca.batch_execute("CREATE TABLE only_in_a (id int)").unwrap();
    let e = cb.query("SELECT * FROM only_in_a", &[]).unwrap_err();
    assert_eq!(e.code(), Some(lifeguard::client::SqlState::UNDEFINED_TABLE));

    let name = a.name().to_owned();
    drop(ca);
    drop(a);
    let admin = lifeguard::client::connect(&admin_url().unwrap()).unwrap();
    let left: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the dropped test database is gone");
}

#[test]
fn redis_is_available_to_tests() {
    let url = redis_url().unwrap();
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}
