//! TLS in every sslmode against a throwaway cluster with a certificate signed by a CA the
//! test makes with the `openssl` command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use lifeguard::client::{Client, Error};
use lifeguard::testkit::PgServer;

struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (install it with `apt-get install openssl`)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for `localhost` signed by it, and an unrelated second CA.
fn make_pki() -> Pki {
    let dir = std::env::temp_dir().join(format!("lifeguard-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca = |name: &str, cn: &str| {
        let key = format!("{name}.key");
        let crt = format!("{name}.crt");
        let subj = format!("/CN={cn}");
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &crt, "-days", "2", "-subj", &subj]);
        openssl(&dir, &args);
    };
    ca("ca", "Lifeguard Test CA");
    ca("other-ca", "Unrelated CA");
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&dir, &args);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    Pki { dir }
}

fn uses_tls(c: &Client) -> bool {
    c.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .unwrap()
    .get(0)
}

#[test]
fn tls_in_every_sslmode() {
    let pki = make_pki();
    let server = PgServer::builder()
        .tls(pki.dir.join("server.crt"), pki.dir.join("server.key"))
        .start()
        .expect("start a TLS cluster");
    let port = server.port();
    let ca = pki.dir.join("ca.crt");
    let other = pki.dir.join("other-ca.crt");
    let url =
        |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/postgres?{query}");

    let c = lifeguard::client::connect(&url("127.0.0.1", "sslmode=require")).unwrap();
    assert!(uses_tls(&c), "require encrypts");
    let c = lifeguard::client::connect(&url("127.0.0.1", "sslmode=prefer")).unwrap();
    assert!(uses_tls(&c), "prefer encrypts when the server offers TLS");
    let c = lifeguard::client::connect(&url("127.0.0.1", "sslmode=disable")).unwrap();
    assert!(!uses_tls(&c));

    let full = url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    let c = lifeguard::client::connect(&full).unwrap();
    assert!(uses_tls(&c), "verify-full with the right CA and host name");

    // Pipelining over TLS: many coroutines share the encrypted connection.
    let c = Arc::new(c);
    let hs: Vec<_> = (0..200i32)
        .map(|i| {
            let c = c.clone();
            may::go!(move || {
                let v: i32 = c.query_one("SELECT $1::int4 * 2", &[&i]).unwrap().get(0);
                assert_eq!(v, i * 2);
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }

    let e = lifeguard::client::connect(&url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    ))
    .unwrap_err();
    assert!(
        matches!(e, Error::Tls(_)),
        "the certificate does not name 127.0.0.1: {e}"
    );

    let c = lifeguard::client::connect(&url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
    ))
    .unwrap();
    assert!(uses_tls(&c), "verify-ca does not check the host name");

    let e = lifeguard::client::connect(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other.display()),
    ))
    .unwrap_err();
    assert!(
        matches!(e, Error::Tls(_)),
        "an unrelated CA is not trusted: {e}"
    );

    let e = lifeguard::client::connect(&url("localhost", "sslmode=verify-full")).unwrap_err();
    assert!(
        matches!(e, Error::Config(_)) && e.to_string().contains("sslrootcert"),
        "{e}"
    );
}

#[test]
fn require_fails_against_a_server_without_tls() {
    let server = PgServer::builder().start().expect("start a plain cluster");
    let e = lifeguard::client::connect(&format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=require",
        server.port()
    ))
    .unwrap_err();
    assert!(matches!(e, Error::Tls(_)), "{e}");
    assert!(e.to_string().contains("does not accept TLS"), "{e}");
    let c = lifeguard::client::connect(&format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=prefer",
        server.port()
    ))
    .unwrap();
    assert!(!uses_tls(&c), "prefer falls back to plain text");
}
