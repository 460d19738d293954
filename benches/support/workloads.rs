//! The workloads of the throughput bench, shared by `benches/throughput.rs` (async-s3 only)
//! and `benches/peers/` (async-s3 and other S3 clients): a client is a [`BenchClient`] of a
//! few operations, and every (client, workload) pair runs in a child process of its own
//! against one sink server (another child), so the CPU time and peak RSS a child reports are
//! that client's alone.
//!
//! Environment (all optional):
//! - `ASYNC_S3_BENCH_RUNS` measured runs of each pair, after one warm-up run that is
//!   discarded; medians reported (default 3)
//! - `ASYNC_S3_BENCH_MIB` size of the big transfers in MiB (default 1024)
//! - `ASYNC_S3_BENCH_OPS` small PUTs / GETs per run (default 20000)
//! - `ASYNC_S3_BENCH_PAGES` list pages per run (default 300)
//! - `ASYNC_S3_BENCH_ONLY` comma-separated workload names to run (default: all)
//! - `ASYNC_S3_BENCH_FILES` files of the directory workloads (default 10000)
//! - `ASYNC_S3_BENCH_KEYS` keys of the `list-100k` workload (default 100000)
//!
//! Linux only: CPU time and peak RSS come from /proc/self.

#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The directory workloads (dir-upload, dir-download, list-100k).
#[path = "files.rs"]
pub mod files;
pub use files::FilesClient;

/// A boxed future, so that clients are objects.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Size of the small PUTs and GETs.
pub const SMALL: usize = 4096;
/// Small operations in flight at once.
pub const SMALL_IN_FLIGHT: usize = 64;
/// Part size of the big transfers.
pub const PART: u64 = 8 << 20;
/// Parts in flight at once in the big transfers.
pub const CONCURRENCY: usize = 8;
/// Key of the big object; any other key not starting with it is a 4 KiB object at the sink.
pub const BIG_KEY: &str = "big";
/// Key of the small object.
pub const SMALL_KEY: &str = "small";

/// The operations a workload needs from a client. Every call must check what it got (size,
/// key count) and panic on a failure, so that a broken client cannot look fast.
pub trait BenchClient: Send + Sync + 'static {
    /// PUT `body` at `key`.
    fn put(&self, key: String, body: Bytes) -> Fut<'_, ()>;
    /// GET `key` whole; returns the body's length.
    fn get(&self, key: String) -> Fut<'_, usize>;
    /// One ListObjectsV2 page; returns how many keys it held.
    fn list_page(&self) -> Fut<'_, usize>;
    /// Download `key` (`size` bytes) into the file at `path` with ranged GETs of [`PART`],
    /// [`CONCURRENCY`] in flight. With `progress`, count each progress report in it.
    fn download(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()>;
    /// Upload the file at `path` (`size` bytes) to `key` as a multipart upload of [`PART`]
    /// parts, [`CONCURRENCY`] in flight.
    fn upload(
        &self,
        key: String,
        path: PathBuf,
        size: u64,
        progress: Option<Arc<AtomicU64>>,
    ) -> Fut<'_, ()>;
    /// The directory workloads' operations, for a client that offers them.
    fn files(&self) -> Option<&dyn FilesClient> {
        None
    }
}

/// One workload of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// Short name, used on the command line and in `ASYNC_S3_BENCH_ONLY`.
    pub name: &'static str,
    pub kind: Kind,
    /// Request bodies sent as `UNSIGNED-PAYLOAD`.
    pub unsigned: bool,
    /// Progress reporting on.
    pub progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Put,
    Get,
    List,
    Download,
    Upload,
    /// A local directory of small files uploaded under a prefix.
    DirUpload,
    /// Every `files/` object downloaded into an empty directory.
    DirDownload,
    /// Every key under `many/`, counted.
    ListAll,
}

impl Kind {
    fn big(self) -> bool {
        matches!(self, Kind::Download | Kind::Upload)
    }
    /// A directory workload, run through [`BenchClient::files`].
    pub fn files(self) -> bool {
        matches!(self, Kind::DirUpload | Kind::DirDownload | Kind::ListAll)
    }
}

/// Every workload, in table order.
pub const WORKLOADS: &[Workload] = &[
    w("sign-put", Kind::Put, false, false),
    w("unsigned-put", Kind::Put, true, false),
    w("get", Kind::Get, false, false),
    w("list", Kind::List, false, false),
    w("download", Kind::Download, false, false),
    w("download-progress", Kind::Download, false, true),
    w("upload", Kind::Upload, false, false),
    w("unsigned-upload", Kind::Upload, true, false),
    w("upload-progress", Kind::Upload, true, true),
    w("dir-upload", Kind::DirUpload, false, false),
    w("dir-download", Kind::DirDownload, false, false),
    w("list-100k", Kind::ListAll, false, false),
];

const fn w(name: &'static str, kind: Kind, unsigned: bool, progress: bool) -> Workload {
    Workload {
        name,
        kind,
        unsigned,
        progress,
    }
}

impl Workload {
    /// A description for the table.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            Kind::Put => format!("PUT 4 KiB, {SMALL_IN_FLIGHT} in flight"),
            Kind::Get => format!("GET 4 KiB, {SMALL_IN_FLIGHT} in flight"),
            Kind::List => "ListObjectsV2, 1000-key pages".to_owned(),
            Kind::Download => format!(
                "{} MiB ranged GET, {CONCURRENCY} x {} MiB",
                mib(),
                PART >> 20
            ),
            Kind::Upload => format!(
                "{} MiB multipart PUT, {CONCURRENCY} x {} MiB",
                mib(),
                PART >> 20
            ),
            k => files::describe(k),
        };
        let mut s = what;
        if self.unsigned {
            s.push_str(", unsigned");
        } else if matches!(self.kind, Kind::Put | Kind::Upload) {
            s.push_str(", signed");
        }
        if self.progress {
            s.push_str(", progress on");
        }
        s
    }

    pub fn by_name(name: &str) -> Option<Workload> {
        WORKLOADS.iter().copied().find(|w| w.name == name)
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn runs() -> usize {
    env_num("ASYNC_S3_BENCH_RUNS", 3).max(1) as usize
}
pub fn mib() -> u64 {
    env_num("ASYNC_S3_BENCH_MIB", 1024).max(8)
}
pub fn ops() -> u64 {
    env_num("ASYNC_S3_BENCH_OPS", 20_000).max(SMALL_IN_FLIGHT as u64)
}
pub fn pages() -> u64 {
    env_num("ASYNC_S3_BENCH_PAGES", 300).max(1)
}

/// The workloads selected by `ASYNC_S3_BENCH_ONLY`.
pub fn selected() -> Vec<Workload> {
    match std::env::var("ASYNC_S3_BENCH_ONLY") {
        Ok(list) if !list.trim().is_empty() => {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            WORKLOADS
                .iter()
                .copied()
                .filter(|w| names.contains(&w.name))
                .collect()
        }
        _ => WORKLOADS.to_vec(),
    }
}

/// (user + system CPU seconds, peak RSS in MiB) of this process, from /proc.
pub fn usage() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = stat.rsplit_once(')').expect("stat").1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    let hz = 100.0; // USER_HZ on Linux
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    (ticks / hz, hwm / 1024.0)
}

/// What one child measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Operations (PUTs, GETs, pages, transfers) done.
    pub ops: f64,
    pub secs: f64,
    pub cpu: f64,
    pub rss_mib: f64,
    pub progress_calls: f64,
}

impl Sample {
    fn line(&self) -> String {
        format!(
            "RESULT {} {} {} {} {}",
            self.ops, self.secs, self.cpu, self.rss_mib, self.progress_calls
        )
    }
    fn parse(text: &str) -> Option<Sample> {
        let line = text.lines().find(|l| l.starts_with("RESULT "))?;
        let n: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        (n.len() == 5).then(|| Sample {
            ops: n[0],
            secs: n[1],
            cpu: n[2],
            rss_mib: n[3],
            progress_calls: n[4],
        })
    }
}

/// The 4 KiB body of the small PUTs.
fn small_body() -> Bytes {
    Bytes::from(vec![0x42u8; SMALL])
}

/// Runs `workload` with the client `make` builds (inside the runtime) and prints one
/// `RESULT` line on stdout. `file` is the big source (uploads) or a scratch path
/// (downloads). Returns false when the client does not offer this workload.
pub fn child<F>(workload: Workload, file: &Path, make: F) -> bool
where
    F: FnOnce() -> Option<Arc<dyn BenchClient>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let size = mib() << 20;
    let sample = rt.block_on(async move {
        let client = make()?;
        // Warm up: connections open, lazily built state built.
        match workload.kind {
            Kind::Put => small_ops(&client, SMALL_IN_FLIGHT as u64, true).await,
            Kind::Get => small_ops(&client, SMALL_IN_FLIGHT as u64, false).await,
            Kind::List => assert_eq!(client.list_page().await, 1000),
            Kind::Download | Kind::Upload => {
                client.put("warm".to_owned(), small_body()).await;
            }
            k => files::warm_up(&client, k, file).await,
        }
        let (cpu0, _) = usage();
        let started = Instant::now();
        let calls = workload.progress.then(|| Arc::new(AtomicU64::new(0)));
        let ops = match workload.kind {
            Kind::Put => {
                small_ops(&client, ops(), true).await;
                ops()
            }
            Kind::Get => {
                small_ops(&client, ops(), false).await;
                ops()
            }
            Kind::List => {
                for _ in 0..pages() {
                    assert_eq!(client.list_page().await, 1000);
                }
                pages()
            }
            Kind::Download => {
                let _ = std::fs::remove_file(file);
                client
                    .download(BIG_KEY.to_owned(), file.to_owned(), size, calls.clone())
                    .await;
                let got = std::fs::metadata(file).expect("downloaded file").len();
                assert_eq!(got, size, "downloaded size");
                1
            }
            Kind::Upload => {
                client
                    .upload(BIG_KEY.to_owned(), file.to_owned(), size, calls.clone())
                    .await;
                1
            }
            k => files::run(&client, k, file).await,
        };
        let secs = started.elapsed().as_secs_f64();
        let (cpu1, rss) = usage();
        files::check(workload.kind, file);
        drop(client);
        Some(Sample {
            ops: ops as f64,
            secs,
            cpu: cpu1 - cpu0,
            rss_mib: rss,
            progress_calls: calls.map_or(0.0, |c| c.load(Ordering::Relaxed) as f64),
        })
    });
    match sample {
        Some(s) => {
            println!("{}", s.line());
            true
        }
        None => {
            println!("UNSUPPORTED");
            false
        }
    }
}

/// `n` small PUTs or GETs, [`SMALL_IN_FLIGHT`] at a time, spread over the runtime's workers.
async fn small_ops(client: &Arc<dyn BenchClient>, n: u64, put: bool) {
    let next = Arc::new(AtomicU64::new(0));
    let body = small_body();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..SMALL_IN_FLIGHT {
        let (client, next, body) = (client.clone(), next.clone(), body.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                if put {
                    client.put(SMALL_KEY.to_owned(), body.clone()).await;
                } else {
                    assert_eq!(client.get(SMALL_KEY.to_owned()).await, SMALL);
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("worker task");
    }
}

/// Serves the sink in this process (the `--sink` child): prints its address, then serves
/// until killed.
pub fn sink_main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let object = Bytes::from(vec![0x5a; (mib() << 20) as usize]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("{}", listener.local_addr().expect("addr"));
        super::sink::serve(listener, object).await;
    });
}

/// The sink child, killed on drop.
pub struct SinkProcess {
    child: std::process::Child,
    pub addr: String,
}

impl SinkProcess {
    /// Starts `exe --sink` and reads its address.
    pub fn start(exe: &Path) -> SinkProcess {
        let mut child = Command::new(exe)
            .arg("--sink")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the sink");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().expect("stdout")),
            &mut line,
        )
        .expect("sink address");
        SinkProcess {
            child,
            addr: line.trim().to_owned(),
        }
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory on tmpfs when there is one (so the disk does not set the pace), with
/// the big upload source written once.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = if Path::new("/dev/shm").is_dir() {
            tempfile::tempdir_in("/dev/shm").expect("tempdir")
        } else {
            tempfile::tempdir().expect("tempdir")
        };
        Scratch { dir }
    }
    /// The upload source, written on first use in 8 MiB blocks.
    pub fn source(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("source.bin");
        if !path.exists() {
            let mut f = std::fs::File::create(&path).expect("create source");
            let block = vec![0xa5u8; 8 << 20];
            for _ in 0..(mib() << 20) / block.len() as u64 {
                f.write_all(&block).expect("write source");
            }
        }
        path
    }
    pub fn dest(&self, client: &str) -> PathBuf {
        self.dir.path().join(format!("dest-{client}.bin"))
    }
}

/// Medians over the measured runs of one (client, workload) pair.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub samples: Vec<Sample>,
    pub unsupported: bool,
    /// Measured runs whose child failed (their samples are missing).
    pub failures: usize,
}

/// The median (the mean of the middle two for an even count); NaN for none.
fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() & 1 == 0 {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

/// (max - min) / median; 0 for fewer than two values.
fn spread_of(v: Vec<f64>) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    if hi == lo {
        return 0.0; // also when every run measured 0 (under one CPU tick)
    }
    (hi - lo) / median(v)
}

impl Cell {
    fn col(&self, f: impl Fn(&Sample) -> f64) -> f64 {
        median(self.samples.iter().map(f).collect())
    }
    /// Whether the cell has a figure to show.
    pub fn measured(&self) -> bool {
        !self.unsupported && !self.samples.is_empty()
    }
    pub fn ops_per_sec(&self) -> f64 {
        self.col(|s| s.ops / s.secs)
    }
    /// CPU microseconds per operation.
    pub fn cpu_us_per_op(&self) -> f64 {
        self.col(|s| s.cpu / s.ops * 1e6)
    }
    pub fn gib_per_sec(&self) -> f64 {
        self.col(|s| s.ops * gib() / s.secs)
    }
    pub fn cpu_s_per_gib(&self) -> f64 {
        self.col(|s| s.cpu / (s.ops * gib()))
    }
    pub fn rss(&self) -> f64 {
        self.col(|s| s.rss_mib)
    }
    pub fn progress_calls(&self) -> f64 {
        self.col(|s| s.progress_calls)
    }
    /// The spread of the cost figure (CPU per operation) over the measured runs:
    /// (max - min) / median.
    pub fn spread(&self) -> f64 {
        spread_of(self.samples.iter().map(|s| s.cpu / s.ops).collect())
    }
    /// The spread of the speed figure (operations per second) over the measured runs.
    pub fn speed_spread(&self) -> f64 {
        spread_of(self.samples.iter().map(|s| s.ops / s.secs).collect())
    }
}

fn gib() -> f64 {
    (mib() << 20) as f64 / (1u64 << 30) as f64
}

/// The order in which `n` clients run: table order, rotated to start at `start mod n`.
/// Run `r` (0 is the warm-up) of the workload at index `w` starts at `r + w`, so no client
/// is always first, neither in a run nor for a workload.
pub fn rotation(n: usize, start: usize) -> Vec<usize> {
    (0..n).map(|i| (start + i) % n).collect()
}

/// Runs every selected workload for every client: one warm-up run (its figures printed,
/// marked, and discarded), then `runs()` measured runs; within a run each workload runs
/// every client in turn, in the order of [`rotation`], so that machine drift and the cost of
/// running first hit all alike. `exe` is re-run as
/// `exe --child <client> <workload> <file> <sink address>`.
pub fn orchestrate(exe: &Path, clients: &[&str]) -> Vec<(Workload, Vec<Cell>)> {
    let sink = SinkProcess::start(exe);
    let scratch = Scratch::new();
    let workloads = selected();
    let mut cells: Vec<Vec<Cell>> = vec![vec![Cell::default(); clients.len()]; workloads.len()];
    eprintln!(
        "sink server at {} (separate process); 1 warm-up run + {} measured runs; big transfers {} MiB",
        sink.addr,
        runs(),
        mib()
    );
    for run in 0..=runs() {
        let label = if run == 0 {
            "warm-up".to_owned()
        } else {
            format!("run {run}")
        };
        for (wi, wl) in workloads.iter().enumerate() {
            let order = rotation(clients.len(), run + wi);
            let names: Vec<&str> = order.iter().map(|&ci| clients[ci]).collect();
            eprintln!("{label} {}: order {}", wl.name, names.join(", "));
            for ci in order {
                let client = clients[ci];
                if cells[wi][ci].unsupported {
                    continue;
                }
                let file = if wl.kind == Kind::Upload {
                    scratch.source()
                } else {
                    scratch.dest(client)
                };
                let out = Command::new(exe)
                    .args(["--child", client, wl.name])
                    .arg(&file)
                    .arg(&sink.addr)
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("spawn a client");
                let text = String::from_utf8_lossy(&out.stdout);
                if text.contains("UNSUPPORTED") {
                    cells[wi][ci].unsupported = true;
                    continue;
                }
                match (out.status.success(), Sample::parse(&text)) {
                    (true, Some(s)) => {
                        eprintln!(
                            "{label:<8} {:<18} {:<22} cpu {:>7.3} s, {:>6.2} s{}",
                            wl.name,
                            client,
                            s.cpu,
                            s.secs,
                            if run == 0 {
                                "  (warm-up, discarded)"
                            } else {
                                ""
                            }
                        );
                        if run > 0 {
                            cells[wi][ci].samples.push(s);
                        }
                    }
                    _ => {
                        eprintln!("{label} {} {client}: failed", wl.name);
                        if run > 0 {
                            cells[wi][ci].failures += 1;
                        }
                    }
                }
                let _ = std::fs::remove_file(scratch.dest(client));
            }
        }
    }
    workloads.into_iter().zip(cells).collect()
}

/// How the client order was chosen, for the output.
pub fn order_note(clients: &[&str]) -> String {
    format!(
        "Client order: one warm-up run (discarded), then {} measured run(s); run r (0 = warm-up) \
         of the workload at index w starts at client (r + w) mod {} of: {}.",
        runs(),
        clients.len(),
        clients.join(", ")
    )
}

/// Prints the table: one block per workload, one row per client; medians of the measured
/// runs, and the spread over those runs of the cost (CPU) and speed figures.
pub fn print_table(results: &[(Workload, Vec<Cell>)], clients: &[&str]) {
    println!(
        "{:<22} {:>10} {:>12} {:>8} {:>10} {:>10} {:>14}",
        "client", "ops/s", "CPU us/op", "GiB/s", "CPU s/GiB", "RSS MiB", "spread CPU/spd"
    );
    for (wl, cells) in results {
        println!("-- {}", wl.describe());
        for (cell, client) in cells.iter().zip(clients) {
            if cell.unsupported {
                println!("{client:<22} {:>10}", "n/a");
                continue;
            }
            if cell.samples.is_empty() {
                println!("{client:<22} {:>10}", "failed");
                continue;
            }
            let (ops, cpu_op, gibs, cpug) = if wl.kind.big() {
                (
                    String::new(),
                    String::new(),
                    format!("{:.2}", cell.gib_per_sec()),
                    format!("{:.2}", cell.cpu_s_per_gib()),
                )
            } else {
                (
                    format!("{:.0}", cell.ops_per_sec()),
                    format!("{:.1}", cell.cpu_us_per_op()),
                    String::new(),
                    String::new(),
                )
            };
            let mut extra = String::new();
            if wl.progress {
                extra = format!("  ({:.0} progress calls)", cell.progress_calls());
            }
            if cell.failures > 0 {
                extra.push_str(&format!("  ({} run(s) failed)", cell.failures));
            }
            let spread = format!(
                "{:.0}%/{:.0}%",
                cell.spread() * 100.0,
                cell.speed_spread() * 100.0
            );
            println!(
                "{client:<22} {ops:>10} {cpu_op:>12} {:>8} {:>10} {:>10.0} {spread:>14}{extra}",
                gibs,
                cpug,
                cell.rss(),
            );
        }
    }
    println!(
        "RSS budget for the big transfers: {CONCURRENCY} x {} MiB + 16 MiB = {} MiB",
        PART >> 20,
        CONCURRENCY as u64 * (PART >> 20) + 16
    );
}

/// A client's name as the README's tables spell it.
fn display_name(client: &str) -> String {
    match client {
        "raw-hyper" => "raw hyper".to_owned(),
        c => c.replace("+crc32", " + CRC32"),
    }
}

/// The README's row label of a workload, with its unit.
fn markdown_label(wl: &Workload) -> String {
    match wl.kind {
        Kind::List => "ListObjectsV2, ms per 1000-key page".to_owned(),
        k if k.big() => format!("{}: GiB/s, CPU s/GiB, peak RSS MiB", wl.describe()),
        _ => format!("{}, µs/op", wl.describe()),
    }
}

/// One cell of the README's table: "—" where the client does not offer the workload
/// (blank on the progress rows, which only async-s3 offers), "failed" where every run failed.
fn markdown_value(wl: &Workload, cell: &Cell, client: &str, spread: bool) -> String {
    if cell.unsupported {
        return if wl.progress {
            String::new()
        } else {
            "—".to_owned()
        };
    }
    if cell.samples.is_empty() {
        return "failed".to_owned();
    }
    let v = if spread {
        if wl.kind.big() {
            format!(
                "{:.0} %, {:.0} %",
                cell.speed_spread() * 100.0,
                cell.spread() * 100.0
            )
        } else {
            format!("{:.0} %", cell.spread() * 100.0)
        }
    } else if wl.kind == Kind::List {
        format!("{:.2}", cell.cpu_us_per_op() / 1000.0)
    } else if wl.kind.big() {
        format!(
            "{:.2}, {:.2}, {:.0}",
            cell.gib_per_sec(),
            cell.cpu_s_per_gib(),
            cell.rss()
        )
    } else {
        format!("{:.1}", cell.cpu_us_per_op())
    };
    match client {
        "async-s3" if !spread => format!("**{v}**"),
        "raw-hyper" if wl.kind == Kind::List && !spread => format!("{v} (not parsed)"),
        _ => v,
    }
}

/// Prints the Markdown tables for the README: one row per workload, one column per client,
/// the medians of the measured runs (the shape of the README's Performance table), then the
/// spread of each cell over those runs ((max - min) / median: of the CPU figure; for the big
/// transfers of GiB/s, then of CPU s/GiB).
pub fn print_markdown(results: &[(Workload, Vec<Cell>)], clients: &[&str]) {
    let header = |what: &str| {
        let names: Vec<String> = clients.iter().map(|c| display_name(c)).collect();
        println!("| {what} | {} |", names.join(" | "));
        println!("|---|{}", "---|".repeat(clients.len()));
    };
    let n = runs();
    header(&format!("client CPU (medians of {n} measured runs)"));
    for (wl, cells) in results {
        let v: Vec<String> = cells
            .iter()
            .zip(clients)
            .map(|(c, name)| markdown_value(wl, c, name, false))
            .collect();
        println!("| {} | {} |", markdown_label(wl), v.join(" | "));
    }
    println!();
    header(&format!(
        "spread over the {n} measured runs, (max - min) / median"
    ));
    for (wl, cells) in results {
        let v: Vec<String> = cells
            .iter()
            .zip(clients)
            .map(|(c, name)| markdown_value(wl, c, name, true))
            .collect();
        let what = if wl.kind.big() {
            format!("{}: GiB/s, CPU s/GiB", wl.describe())
        } else {
            format!("{}: CPU per op", wl.describe())
        };
        println!("| {what} | {} |", v.join(" | "));
    }
}

#[cfg(test)]
mod tests {
    // Run by `cargo test --release` in benches/peers; the throughput bench (harness = false)
    // compiles this module without its tests.
    #[allow(unused_imports)]
    use super::*;

    /// Every run of every workload runs each client once; no client is first twice in a row,
    /// neither across runs of a workload nor across the workloads of a run.
    #[test]
    fn rotation_moves_the_first_client() {
        let n = 4;
        for start in 0..10 {
            let mut order = rotation(n, start);
            assert_eq!(order[0], start % n);
            order.sort_unstable();
            assert_eq!(order, vec![0, 1, 2, 3], "each client once");
        }
        let first = |run: usize, w: usize| rotation(n, run + w)[0];
        assert_ne!(first(1, 0), first(2, 0), "same first client in two runs");
        assert_ne!(
            first(1, 0),
            first(1, 1),
            "same first client for two workloads"
        );
        assert_eq!(rotation(n, 5), vec![1, 2, 3, 0]);
    }

    #[test]
    fn median_and_spread() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
        assert_eq!(spread_of(vec![2.0]), 0.0);
        assert_eq!(spread_of(vec![0.0, 0.0]), 0.0);
        assert!((spread_of(vec![1.0, 2.0, 4.0]) - 1.5).abs() < 1e-12);
        let s = |cpu: f64, secs: f64| Sample {
            ops: 10.0,
            secs,
            cpu,
            ..Sample::default()
        };
        let cell = Cell {
            samples: vec![s(1.0, 1.0), s(2.0, 2.0), s(4.0, 4.0)],
            ..Cell::default()
        };
        assert!((cell.spread() - 1.5).abs() < 1e-12, "CPU spread");
        // ops/s: 10, 5, 2.5: (10 - 2.5) / 5
        assert!((cell.speed_spread() - 1.5).abs() < 1e-12, "speed spread");
        assert!((cell.cpu_us_per_op() - 2e5).abs() < 1e-6);
    }

    #[test]
    fn markdown_cells() {
        let one = |cpu: f64| Cell {
            samples: vec![Sample {
                ops: 1000.0,
                secs: 1.0,
                cpu,
                rss_mib: 30.0,
                ..Sample::default()
            }],
            ..Cell::default()
        };
        let na = Cell {
            unsupported: true,
            ..Cell::default()
        };
        let by = |n: &str| Workload::by_name(n).expect("workload");
        assert_eq!(
            markdown_value(&by("get"), &one(0.0445), "async-s3", false),
            "**44.5**"
        );
        assert_eq!(
            markdown_value(&by("get"), &one(0.0445), "rust-s3", false),
            "44.5"
        );
        assert_eq!(
            markdown_value(&by("list"), &one(1.53), "object_store", false),
            "1.53"
        );
        assert_eq!(
            markdown_value(&by("list"), &one(0.17), "raw-hyper", false),
            "0.17 (not parsed)"
        );
        assert_eq!(
            markdown_value(&by("unsigned-put"), &na, "rust-s3", false),
            "—"
        );
        assert_eq!(
            markdown_value(&by("upload-progress"), &na, "rust-s3", false),
            ""
        );
        assert_eq!(
            markdown_value(&by("get"), &Cell::default(), "rust-s3", false),
            "failed"
        );
        assert_eq!(
            markdown_value(&by("get"), &one(1.0), "async-s3", true),
            "0 %"
        );
        assert_eq!(display_name("aws-sdk-s3+crc32"), "aws-sdk-s3 + CRC32");
        assert_eq!(display_name("raw-hyper"), "raw hyper");
    }
}
