//! Helpers the benchmark examples share: running `pgbench` and taking medians.

/// The median of `v` (the upper one for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `pgbench -M prepared` with `script` for `secs` seconds and returns its transactions
/// per second (multiply by the statements a transaction runs for statements per second).
pub fn run_pgbench(
    pgbench: &std::path::Path,
    port: u16,
    clients: usize,
    script: &std::path::Path,
    secs: f64,
) -> Result<f64, String> {
    let out = std::process::Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-h", "127.0.0.1", "-U", "postgres"])
        .arg("-p")
        .arg(port.to_string())
        .arg("-c")
        .arg(clients.to_string())
        .arg("-j")
        .arg(clients.min(2).to_string())
        .arg("-T")
        .arg(format!("{}", secs.ceil() as u64))
        .arg("-f")
        .arg(script)
        .arg("postgres")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", pgbench.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no tps line in pgbench output: {text}"))
}
