//! A program in an 80x24 pseudo-terminal, read back through a VT100 parser as a terminal would
//! show it. Shared by the end-to-end console test and the console benchmark (`#[path]`).

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    pub screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, for sequences the screen does not keep (OSC 52).
    pub raw: Arc<Mutex<Vec<u8>>>,
    keys: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    pub fn spawn(cmd: &CommandBuilder) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 })
            .expect("a pseudo-terminal");
        let child = pty.slave.spawn_command(cmd.clone()).expect("the program starts");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let keys = pty.master.take_writer().unwrap();
        let screen =
            Arc::new(Mutex::new(vt100::Parser::new(24.try_into().unwrap(), 80.try_into().unwrap(), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { screen, raw, keys, child }
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// How long until every one of `all` is on screen, or `None` after `limit`.
    pub fn wait(&self, all: &[&str], limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        loop {
            let text = self.text();
            if all.iter().all(|w| text.contains(w)) {
                return Some(start.elapsed());
            }
            if start.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    pub fn send(&mut self, s: &str) {
        self.keys.write_all(s.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
