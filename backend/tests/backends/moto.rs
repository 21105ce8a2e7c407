//! A real AWS API emulator for the tests: moto server (PyPI `moto[server]`) in the project's
//! `.venv`, installed there on first use, started once per test process on a free loopback
//! port, and stopped when the process exits (its wrapper watches our end of a pipe).

use mantissa_backend::aws::AwsSettings;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Pinned so a fresh machine gets what these tests were written against.
pub const PIP_PACKAGES: [&str; 3] = ["moto[server]==5.2.5", "cfn-lint==1.58.0", "awscli==1.46.3"];
pub const REGION: &str = "us-east-1";

pub struct Moto {
    pub endpoint: String,
    /// Held open for the life of the process; its closing stops the server.
    _lifeline: ChildStdin,
    _wrapper: Child,
}

/// The folder with the workspace's Cargo.lock (this file is compiled into both crates' tests).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().find(|d| d.join("Cargo.lock").exists()).unwrap_or(&here).to_path_buf()
}

/// `<workspace>/.venv/bin/<tool>`, creating the venv and installing the pinned packages when
/// a tool is missing (a file lock keeps parallel test processes from installing twice).
pub fn venv_tool(tool: &str) -> PathBuf {
    let root = workspace_root();
    let venv = root.join(".venv");
    let path = venv.join("bin").join(tool);
    if path.exists() {
        return path;
    }
    // target/ may not exist yet (CARGO_TARGET_DIR elsewhere); it is ignored by git either way.
    let locks = root.join("target");
    std::fs::create_dir_all(&locks).expect("target/ for the install lock");
    let lock = std::fs::File::create(locks.join(".venv.lock")).expect("lock file in target/");
    lock.lock().expect("venv install lock");
    if !path.exists() {
        eprintln!("installing {PIP_PACKAGES:?} into {} (first run only)", venv.display());
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let ok = Command::new(&python).args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success());
        assert!(ok, "`{python} -m venv {}` failed: install python3 with venv support", venv.display());
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(PIP_PACKAGES)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pip install {PIP_PACKAGES:?} failed (needs PyPI)");
    }
    assert!(path.exists(), "{} missing after install", path.display());
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

fn responds(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read(&mut buf).is_ok_and(|n| buf[..n].starts_with(b"HTTP/1."))
}

pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let server = venv_tool("moto_server");
        let port = free_port();
        let wrapper = "import subprocess, sys\n\
                       p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                       sys.stdin.read()\n\
                       p.terminate()\n";
        let mut child = Command::new(workspace_root().join(".venv/bin/python"))
            .args(["-c", wrapper])
            .arg(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let lifeline = child.stdin.take().expect("piped stdin");
        let started = Instant::now();
        while !responds(port) {
            assert!(started.elapsed() < Duration::from_secs(60), "moto_server did not answer on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { endpoint: format!("http://127.0.0.1:{port}"), _lifeline: lifeline, _wrapper: child }
    })
}

/// A name no other test of this run uses, so each test has an environment of its own.
pub fn unique_env(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{prefix}{:x}{}", nanos % 0xffff_ffff, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Settings for a fresh environment of its own on the shared server, so tests run in parallel.
pub fn settings() -> AwsSettings {
    let env = unique_env("t");
    let mut s = AwsSettings::new(&env);
    s.endpoint_url = Some(moto().endpoint.clone());
    s.region = Some(REGION.into());
    s.static_keys = Some(("testing".into(), "testing".into()));
    s.athena.output_location = Some("s3://mantissa-test-results/".into());
    // Glue is one catalog per account: each environment gets a database of its own.
    s.athena.database = format!("mantissa_log_{env}");
    s.allowed_hosts = vec!["127.0.0.1".into()];
    s
}

/// A bootstrapped environment and the AWS services on it.
pub async fn aws_services() -> (AwsSettings, mantissa_backend::services::Services) {
    let s = settings();
    mantissa_backend::aws::bootstrap::bootstrap(&s).await.expect("bootstrap on moto");
    let services = mantissa_backend::services::Services::aws(&s).await.expect("AWS services on moto");
    (s, services)
}
