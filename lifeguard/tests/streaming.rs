//! A million-row result iterated in bounded memory. Its own test binary, so that no other
//! test's allocations show in this process's resident set.

mod common;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_million_row_result_streams_in_bounded_memory() {
    let (_db, c) = common::db();
    // 1,000,000 rows of ~200 bytes: about 200 MB if it were all held at once.
    let stream = c
        .query_raw(
            "SELECT g, repeat('x', 200) FROM generate_series(1, 1000000) g",
            &[],
        )
        .unwrap();
    let before = rss_kib();
    let mut peak = before;
    let mut n = 0i64;
    let mut bytes = 0usize;
    for row in stream {
        let row = row.unwrap();
        n += 1;
        assert_eq!(row.get::<_, i32>(0) as i64, n);
        bytes += row.get::<_, &str>(1).len();
        if n % 10_000 == 0 {
            // Let the reader run ahead as far as it is allowed to.
            may::coroutine::yield_now();
            peak = peak.max(rss_kib());
        }
    }
    assert_eq!(n, 1_000_000);
    assert_eq!(bytes, 200_000_000);
    let grown_mib = (peak.saturating_sub(before)) / 1024;
    assert!(
        grown_mib < 64,
        "resident memory grew by {grown_mib} MiB while streaming 200 MB of rows"
    );
}
