//! The escape battery: real escape attempts run through the real `cadre sandbox`, each asserted
//! on both sides — it fails under the profile that forbids it, and the same action succeeds under
//! a profile that allows it (usually `trusted`), so no test passes because the action was broken.
//!
//! Tools the attempts need (curl, wget, nc, strace, python3...) are installed by
//! `.ci/sandbox-deps.sh`; a test whose tool is missing fails and names that script.
#![cfg(target_os = "linux")]

use assert_cmd::Command;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEPS_SCRIPT: &str = ".ci/sandbox-deps.sh";

/// The outcome of one sandboxed command.
struct Outcome {
    success: bool,
    stdout: String,
    stderr: String,
}

/// A private scene: `root/ws` is the workspace (with `.git` and `.cadre`), `root/outside` a
/// sibling directory the workspace profiles must not touch. cadre runs with `root` as its cwd.
struct Scene {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ws: PathBuf,
    outside: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::Builder::new()
            .prefix("cadre-escape-")
            .tempdir_in("/tmp")
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        let ws = root.join("ws");
        let outside = root.join("outside");
        std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
        std::fs::write(ws.join(".git/config"), "[core]\n").unwrap();
        std::fs::create_dir_all(ws.join(".cadre")).unwrap();
        std::fs::write(ws.join(".cadre/policy.toml"), "").unwrap();
        std::fs::write(ws.join("file.txt"), "inside\n").unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("target.txt"), "outside\n").unwrap();
        Scene {
            _dir: dir,
            root,
            ws,
            outside,
        }
    }

    fn run_args(&self, profile: &str, extra: &[&str], argv: &[&str]) -> Outcome {
        let mut cmd = Command::cargo_bin("cadre").unwrap();
        cmd.current_dir(&self.root)
            .timeout(Duration::from_secs(20))
            .env("OUTSIDE", &self.outside)
            .env("WS", &self.ws)
            .args(["sandbox", "--profile", profile, "--cd"])
            .arg(&self.ws)
            .args(extra)
            .arg("--")
            .args(argv);
        let out = cmd.output().unwrap();
        Outcome {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn sh(&self, profile: &str, script: &str) -> Outcome {
        self.run_args(profile, &[], &["bash", "-c", script])
    }

    /// Asserts that `script` fails under `profile`.
    fn denied(&self, profile: &str, script: &str) -> Outcome {
        let out = self.sh(profile, script);
        assert!(
            !out.success,
            "escaped under {profile}: `{script}`\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out
    }

    /// Asserts that `script` succeeds under `profile`.
    fn allowed(&self, profile: &str, script: &str) -> Outcome {
        let out = self.sh(profile, script);
        assert!(
            out.success,
            "should work under {profile}: `{script}`\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out
    }
}

fn require(tool: &str) {
    let found = std::process::Command::new("bash")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is not installed; run `{DEPS_SCRIPT}` (as root) to install the escape battery's tools"
    );
}

fn python() -> &'static str {
    require("python3");
    "python3"
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

fn unique(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A TCP server on `addr` answering every connection with a tiny HTTP response.
fn http_server(addr: &str) -> u16 {
    let listener = TcpListener::bind(addr).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n",
                );
            });
        }
    });
    port
}

/// A UDP server on 127.0.0.1 echoing datagrams back (DNS-shaped: it flips the response bit).
fn udp_server() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if n > 2 {
                buf[2] |= 0x80;
            }
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    port
}

fn curl_script(url: &str) -> String {
    format!("curl -sS -f --max-time 5 {url}")
}

// ---------------------------------------------------------------- network: no network at all

#[test]
fn offline_curl_to_loopback_fails_and_trusted_succeeds() {
    require("curl");
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let url = format!("http://127.0.0.1:{port}");
    let argv = ["curl", "-sS", "--max-time", "5", url.as_str()];
    let denied = scene.run_args("offline", &[], &argv);
    assert!(!denied.success && !denied.stdout.contains("hello"));
    let allowed = scene.run_args("trusted", &[], &argv);
    assert!(
        allowed.success && allowed.stdout.contains("hello"),
        "{}",
        allowed.stderr
    );
}

#[test]
fn wget_to_loopback() {
    require("wget");
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let script = format!("wget -q -T 5 -t 1 -O - http://127.0.0.1:{port}/");
    scene.denied("workspace-write", &script);
    assert!(scene.allowed("trusted", &script).stdout.contains("hello"));
}

#[test]
fn bash_dev_tcp() {
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{port}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
    );
    scene.denied("offline", &script);
    assert!(scene.allowed("trusted", &script).stdout.contains("hello"));
}

#[test]
fn python_socket() {
    let py = python();
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let script = format!(
        "{py} -c 'import socket; s=socket.create_connection((\"127.0.0.1\", {port}), timeout=3); s.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\"); print(s.recv(100))'"
    );
    scene.denied("workspace-write", &script);
    assert!(scene.allowed("trusted", &script).stdout.contains("hello"));
}

#[test]
fn netcat_to_loopback() {
    require("nc");
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let script = format!("nc -z -w 3 127.0.0.1 {port}");
    scene.denied("offline", &script);
    scene.allowed("trusted", &script);
}

#[test]
fn ipv6_loopback() {
    require("curl");
    let scene = Scene::new();
    let port = http_server("[::1]:0");
    let script = curl_script(&format!("-g http://[::1]:{port}/"));
    scene.denied("offline", &script);
    assert!(scene.allowed("trusted", &script).stdout.contains("hello"));
}

#[test]
fn udp_to_loopback() {
    let py = python();
    let scene = Scene::new();
    let port = udp_server();
    let script = format!(
        "{py} -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b\"ping\", (\"127.0.0.1\", {port})); print(s.recvfrom(100)[0])'"
    );
    scene.denied("offline", &script);
    scene.allowed("trusted", &script);
}

#[test]
fn dns_query_to_a_local_resolver() {
    let py = python();
    let scene = Scene::new();
    let port = udp_server();
    // A real DNS query for localhost (id 0x1234, recursion desired, one A question).
    let script = format!(
        "{py} -c 'import socket; q=bytes.fromhex(\"123401000001000000000000\")+b\"\\x09localhost\\x00\\x00\\x01\\x00\\x01\"; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(q, (\"127.0.0.1\", {port})); r=s.recv(512); assert r[:2]==b\"\\x12\\x34\" and r[2]&0x80; print(\"answered\")'"
    );
    scene.denied("net-read-only", &script);
    scene.denied("offline", &script);
    assert!(
        scene
            .allowed("trusted", &script)
            .stdout
            .contains("answered")
    );
}

#[test]
fn raw_socket() {
    let py = python();
    let scene = Scene::new();
    let script = format!(
        "{py} -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print(\"raw\")'"
    );
    scene.denied("offline", &script);
    scene.denied("workspace-net", &script);
    if is_root() {
        scene.allowed("trusted", &script);
    }
}

#[test]
fn packet_socket() {
    let py = python();
    let scene = Scene::new();
    let script = format!(
        "{py} -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0); print(\"packet\")'"
    );
    scene.denied("offline", &script);
    scene.denied("net-read-only", &script);
    if is_root() {
        scene.allowed("trusted", &script);
    }
}

// ---------------------------------------------------------------- network: through the proxy

#[test]
fn proxy_refuses_a_domain_outside_the_allowlist() {
    require("curl");
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let allow = ["--allow-domain", "localhost"];
    let denied = scene.run_args(
        "net-read-only",
        &allow,
        &[
            "bash",
            "-c",
            &curl_script(&format!("http://127.0.0.1:{port}/")),
        ],
    );
    assert!(!denied.success, "{}", denied.stdout);
    assert!(denied.stderr.contains("403"), "{}", denied.stderr);
    let allowed = scene.run_args(
        "net-read-only",
        &allow,
        &[
            "bash",
            "-c",
            &curl_script(&format!("http://localhost:{port}/")),
        ],
    );
    assert!(
        allowed.success && allowed.stdout.contains("hello"),
        "{}",
        allowed.stderr
    );
}

#[test]
fn proxy_tunnels_connect_for_allowed_domains_only() {
    require("curl");
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let allow = ["--allow-domain", "localhost"];
    let tunnel =
        |host: &str| format!("curl -sS -f --max-time 5 --proxytunnel http://{host}:{port}/");
    let denied = scene.run_args(
        "workspace-net",
        &allow,
        &["bash", "-c", &tunnel("127.0.0.1")],
    );
    assert!(!denied.success);
    let allowed = scene.run_args(
        "workspace-net",
        &allow,
        &["bash", "-c", &tunnel("localhost")],
    );
    assert!(
        allowed.success && allowed.stdout.contains("hello"),
        "{}",
        allowed.stderr
    );
}

#[test]
fn proxy_keeps_local_addresses_closed_unless_named() {
    require("curl");
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let script = curl_script(&format!("http://127.0.0.1:{port}/"));
    // No allowlist means every public domain, not this machine's services.
    scene.denied("net-read-only", &script);
    let named = scene.run_args(
        "net-read-only",
        &["--allow-domain", "127.0.0.1"],
        &["bash", "-c", &script],
    );
    assert!(named.success, "{}", named.stderr);
}

#[test]
fn direct_connection_bypassing_the_proxy() {
    require("curl");
    let py = python();
    let scene = Scene::new();
    let port = http_server("127.0.0.1:0");
    let allow = ["--allow-domain", "127.0.0.1"];
    let direct = format!("curl -sS -f --max-time 5 --noproxy '*' http://127.0.0.1:{port}/");
    let socket = format!(
        "{py} -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=3)'"
    );
    for script in [&direct, &socket] {
        for profile in ["net-read-only", "workspace-net"] {
            let out = scene.run_args(profile, &allow, &["bash", "-c", script]);
            assert!(!out.success, "bypassed the proxy under {profile}: {script}");
        }
        scene.allowed("trusted", script);
    }
    // The same server through the proxy works, so the failure above is the bypass being refused.
    let proxied = scene.run_args(
        "net-read-only",
        &allow,
        &[
            "bash",
            "-c",
            &curl_script(&format!("http://127.0.0.1:{port}/")),
        ],
    );
    assert!(proxied.success, "{}", proxied.stderr);
}

#[test]
fn udp_in_a_network_profile() {
    let py = python();
    let scene = Scene::new();
    let port = udp_server();
    let script = format!(
        "{py} -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b\"x\", (\"127.0.0.1\", {port})); s.recv(10)'"
    );
    scene.denied("workspace-net", &script);
    scene.allowed("trusted", &script);
}

// ---------------------------------------------------------------- files

fn write_marker_test(dir: &str) {
    let scene = Scene::new();
    let marker = format!("{dir}/{}", unique("cadre-escape-marker"));
    let script = format!("echo pwned > {marker}");
    scene.denied("offline", &script);
    scene.denied("workspace-write", &script);
    assert!(!Path::new(&marker).exists());
    if is_root() || dir != "/etc" && dir != "/usr" {
        scene.allowed("trusted", &script);
        assert!(Path::new(&marker).exists());
        std::fs::remove_file(&marker).unwrap();
    }
}

#[test]
fn write_to_etc() {
    write_marker_test("/etc");
}

#[test]
fn write_to_usr() {
    write_marker_test("/usr");
}

#[test]
fn write_to_home() {
    let home = std::env::var("HOME").unwrap();
    write_marker_test(&home);
}

#[test]
fn write_to_a_sibling_of_the_workspace() {
    let scene = Scene::new();
    scene.denied("workspace-write", "echo x > \"$OUTSIDE/new.txt\"");
    scene.denied("workspace-net", "echo x >> \"$OUTSIDE/target.txt\"");
    scene.allowed("trusted", "echo x > \"$OUTSIDE/new.txt\"");
}

#[test]
fn write_inside_the_workspace_needs_a_workspace_profile() {
    let scene = Scene::new();
    scene.denied("offline", "echo x > new.txt");
    scene.denied("net-read-only", "echo x >> file.txt");
    scene.allowed(
        "workspace-write",
        "echo x > new.txt && mkdir -p a/b && echo y > a/b/c && rm file.txt",
    );
}

#[test]
fn private_temp_dir_is_writable_and_removed() {
    let scene = Scene::new();
    let out = scene.allowed(
        "offline",
        "echo x > \"$TMPDIR/f\" && cat \"$TMPDIR/f\" && echo \"$TMPDIR\"",
    );
    let tmp = out.stdout.lines().last().unwrap().to_string();
    assert!(tmp.contains("cadre-sandbox-"), "{tmp}");
    assert!(!Path::new(&tmp).exists(), "{tmp} was not removed");
    scene.denied(
        "offline",
        &format!("echo x > /tmp/{}", unique("cadre-escape-tmp")),
    );
}

#[test]
fn symlink_inside_the_workspace_pointing_out() {
    let scene = Scene::new();
    std::os::unix::fs::symlink(&scene.outside, scene.ws.join("link")).unwrap();
    scene.denied("workspace-write", "echo x > link/via-symlink.txt");
    scene.denied(
        "workspace-write",
        "ln -s \"$OUTSIDE\" own-link && echo x > own-link/via-own-symlink.txt",
    );
    assert!(!scene.outside.join("via-symlink.txt").exists());
    scene.allowed("trusted", "echo x > link/via-symlink.txt");
}

#[test]
fn hard_link_to_a_file_outside() {
    let scene = Scene::new();
    scene.denied(
        "workspace-write",
        "ln \"$OUTSIDE/target.txt\" hard && echo pwned > hard",
    );
    assert_eq!(
        std::fs::read_to_string(scene.outside.join("target.txt")).unwrap(),
        "outside\n"
    );
    scene.allowed(
        "trusted",
        "ln \"$OUTSIDE/target.txt\" hard && echo changed > hard",
    );
    assert_eq!(
        std::fs::read_to_string(scene.outside.join("target.txt")).unwrap(),
        "changed\n"
    );
}

#[test]
fn dot_dot_traversal() {
    let scene = Scene::new();
    scene.denied("workspace-write", "echo x > ../outside/dots.txt");
    scene.denied(
        "workspace-write",
        "echo x > ./a/../../outside/dots.txt; test -e ../outside/dots.txt",
    );
    scene.allowed("trusted", "echo x > ../outside/dots.txt");
}

#[test]
fn proc_self_root() {
    let scene = Scene::new();
    scene.denied(
        "workspace-write",
        "echo x > \"/proc/self/root$OUTSIDE/procroot.txt\"",
    );
    scene.allowed(
        "trusted",
        "echo x > \"/proc/self/root$OUTSIDE/procroot.txt\"",
    );
}

#[test]
fn proc_parent_cwd() {
    // cadre's own working directory is the scene root, outside the workspace.
    let scene = Scene::new();
    scene.denied(
        "workspace-write",
        "echo x > \"/proc/$PPID/cwd/parent-cwd.txt\"",
    );
    assert!(!scene.root.join("parent-cwd.txt").exists());
    scene.allowed("trusted", "echo x > \"/proc/$PPID/cwd/parent-cwd.txt\"");
    assert!(scene.root.join("parent-cwd.txt").exists());
}

#[test]
fn rename_a_file_out_of_the_workspace() {
    let scene = Scene::new();
    scene.denied("workspace-write", "mv file.txt \"$OUTSIDE/moved.txt\"");
    assert!(scene.ws.join("file.txt").exists());
    scene.denied("workspace-write", "mv \"$OUTSIDE/target.txt\" stolen.txt");
    scene.allowed("trusted", "mv file.txt \"$OUTSIDE/moved.txt\"");
}

#[test]
fn git_hooks_stay_read_only() {
    let scene = Scene::new();
    let script = "printf '#!/bin/sh\\necho pwned\\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit";
    scene.denied("workspace-write", script);
    scene.denied("workspace-net", "rm -rf .git/hooks");
    let opted_in = scene.run_args(
        "workspace-write",
        &["--allow-git-writes"],
        &["bash", "-c", script],
    );
    assert!(opted_in.success, "{}", opted_in.stderr);
}

#[test]
fn git_config_stays_read_only() {
    let scene = Scene::new();
    let script = "echo '[core] fsmonitor = evil' >> .git/config";
    scene.denied("workspace-write", script);
    scene.denied("workspace-write", "mv .git .git-old && mkdir .git");
    scene.allowed("trusted", script);
}

#[test]
fn cadre_policy_stays_read_only() {
    let scene = Scene::new();
    let script = "echo '[[rule]]' >> .cadre/policy.toml";
    scene.denied("workspace-write", script);
    scene.denied("workspace-net", "rm .cadre/policy.toml");
    scene.allowed("trusted", script);
}

#[test]
fn chmod_outside_the_workspace() {
    let scene = Scene::new();
    scene.denied("workspace-write", "chmod 777 \"$OUTSIDE/target.txt\"");
    scene.allowed("workspace-write", "chmod 600 file.txt");
    scene.allowed("trusted", "chmod 777 \"$OUTSIDE/target.txt\"");
}

#[test]
fn chown_outside_the_workspace() {
    let scene = Scene::new();
    // Chowning a file to its own owner needs no privilege, so only the sandbox can stop it.
    let script = "chown \"$(id -u):$(id -g)\" \"$OUTSIDE/target.txt\"";
    scene.denied("workspace-write", script);
    scene.allowed("trusted", script);
}

#[test]
fn mount_a_file_system() {
    require("unshare");
    let scene = Scene::new();
    std::fs::create_dir(scene.ws.join("mnt")).unwrap();
    scene.denied("workspace-write", "mount -t tmpfs none mnt");
    scene.denied("workspace-write", "unshare -rm mount -t tmpfs none mnt");
    scene.allowed("trusted", "unshare -rm mount -t tmpfs none mnt");
}

#[test]
fn create_a_device_node() {
    let scene = Scene::new();
    scene.denied("workspace-write", "mknod null c 1 3");
    scene.allowed("workspace-write", "mkfifo fifo");
    if is_root() {
        scene.allowed("trusted", "mknod null c 1 3");
    }
}

// ---------------------------------------------------------------- processes

#[test]
fn ptrace_the_parent() {
    require("strace");
    let scene = Scene::new();
    let out = scene.denied("workspace-write", "strace -o /dev/null -p $PPID");
    assert!(out.stderr.contains("ptrace"), "{}", out.stderr);
    scene.denied("offline", "strace -o /dev/null true");
    scene.allowed("trusted", "strace -o /dev/null true");
}

#[test]
fn kill_the_parent() {
    let scene = Scene::new();
    scene.denied("workspace-write", "kill -0 $PPID");
    scene.denied("offline", "kill -CONT $PPID");
    scene.allowed("trusted", "kill -0 $PPID");
}

#[test]
fn tiocsti_terminal_injection() {
    let py = python();
    let scene = Scene::new();
    // A fresh pty as controlling terminal, then push a character into its input queue.
    let script = format!(
        "{py} -c '\nimport os, pty, fcntl, termios, sys\nm, s = pty.openpty()\npid = os.fork()\nif pid == 0:\n    os.setsid()\n    fd = os.open(os.ttyname(s), os.O_RDWR)\n    try:\n        fcntl.ioctl(fd, termios.TIOCSTI, b\"x\")\n        os._exit(0)\n    except OSError as e:\n        print(e)\n        os._exit(1)\n_, status = os.waitpid(pid, 0)\nsys.exit(os.waitstatus_to_exitcode(status))\n'"
    );
    let out = scene.denied("workspace-write", &script);
    assert!(out.stdout.contains("not permitted"), "{}", out.stdout);
    scene.allowed("trusted", &script);
}

#[test]
fn setuid_binary_gains_nothing() {
    let scene = Scene::new();
    if !is_root() {
        // Only root can make a setuid-root program; an ordinary user checks no_new_privs.
        let out = scene.allowed("workspace-write", "grep NoNewPrivs /proc/self/status");
        assert!(out.stdout.contains('1'), "{}", out.stdout);
        return;
    }
    require("setpriv");
    let suid = scene.outside.join("suid-cat");
    std::fs::copy("/bin/cat", &suid).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for dir in [&scene.root, &scene.outside] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    // Trusted: an unprivileged user running it gets euid 0.
    let gained = scene.allowed(
        "trusted",
        &format!(
            "setpriv --reuid=65534 --regid=65534 --clear-groups {} /proc/self/status",
            suid.display()
        ),
    );
    assert!(
        gained
            .stdout
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    );
    // Sandboxed: the setuid program runs with no capability at all.
    let out = scene.allowed(
        "workspace-write",
        &format!("{} /proc/self/status", suid.display()),
    );
    assert!(
        out.stdout.contains("CapEff:\t0000000000000000"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("NoNewPrivs:\t1"), "{}", out.stdout);
}

#[test]
fn io_uring() {
    let py = python();
    let scene = Scene::new();
    let script = format!(
        "{py} -c 'import ctypes, os; libc=ctypes.CDLL(None, use_errno=True); p=ctypes.create_string_buffer(120); fd=libc.syscall(425, 4, p); print(fd, os.strerror(ctypes.get_errno())); exit(0 if fd >= 0 else 1)'"
    );
    scene.denied("workspace-write", &script);
    scene.allowed("trusted", &script);
}

#[test]
fn unshare_to_regain_rights() {
    require("unshare");
    let scene = Scene::new();
    scene.denied("workspace-write", "unshare -r true");
    scene.denied("offline", "unshare -rn true");
    scene.allowed("trusted", "unshare -r true");
}

#[test]
fn load_a_kernel_module() {
    let py = python();
    let scene = Scene::new();
    // finit_module on a file that is no module: EPERM when refused, another error when tried.
    let script = format!(
        "{py} -c 'import ctypes, os, errno; libc=ctypes.CDLL(None, use_errno=True); fd=os.open(\"/dev/null\", os.O_RDONLY); r=libc.syscall(313, fd, b\"\", 0); e=ctypes.get_errno(); print(errno.errorcode.get(e)); exit(1 if e == errno.EPERM else 0)'"
    );
    scene.denied("workspace-write", &script);
    if is_root() {
        scene.allowed("trusted", &script);
    }
}

// ---------------------------------------------------------------- leaks

#[test]
fn provider_key_and_tokens_are_absent() {
    let scene = Scene::new();
    let mut cmd = Command::cargo_bin("cadre").unwrap();
    let out = cmd
        .current_dir(&scene.root)
        .timeout(Duration::from_secs(20))
        .env("OPENAI_API_KEY", "sk-escape-battery")
        .env("GITHUB_TOKEN", "ghp-escape-battery")
        .env("CI_JOB_TOKEN", "job-escape-battery")
        .env("ESCAPE_BATTERY_VISIBLE", "plain-value")
        .args(["sandbox", "--profile", "workspace-write", "--cd"])
        .arg(&scene.ws)
        .args(["--", "env"])
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(env.contains("ESCAPE_BATTERY_VISIBLE=plain-value"), "{env}");
    for secret in [
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "CI_JOB_TOKEN",
        "escape-battery",
    ] {
        assert!(!env.contains(secret), "{secret} leaked:\n{env}");
    }
}

/// A Unix socket server at `path` (outside the workspace) that answers "agent".
fn unix_server(path: &Path) {
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Read the request first: closing on an unread request resets the connection.
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = stream.read(&mut [0u8; 4096]);
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nagent\n");
        }
    });
}

#[test]
fn ssh_agent_socket_outside_the_workspace() {
    let py = python();
    let scene = Scene::new();
    let sock = scene.outside.join("agent.sock");
    unix_server(&sock);
    let script = format!(
        "{py} -c 'import socket; s=socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(\"{}\"); print(s.recv(100))'",
        sock.display()
    );
    scene.denied("workspace-write", &script);
    scene.denied("workspace-net", &script);
    assert!(scene.allowed("trusted", &script).stdout.contains("agent"));
}

#[test]
fn docker_like_socket_outside_the_workspace() {
    require("curl");
    let scene = Scene::new();
    let sock = scene.outside.join("docker.sock");
    unix_server(&sock);
    let script = format!(
        "curl -sS -f --max-time 5 --unix-socket {} http://localhost/version",
        sock.display()
    );
    scene.denied("offline", &script);
    scene.denied("net-read-only", &script);
    assert!(scene.allowed("trusted", &script).stdout.contains("agent"));
}

#[test]
fn abstract_unix_socket() {
    use std::os::linux::net::SocketAddrExt;
    let py = python();
    let scene = Scene::new();
    let name = unique("cadre-escape-abstract");
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let listener = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.write_all(b"abstract\n");
        }
    });
    let script = format!(
        "{py} -c 'import socket; s=socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(\"\\0{name}\"); print(s.recv(100))'"
    );
    scene.denied("workspace-write", &script);
    assert!(
        scene
            .allowed("trusted", &script)
            .stdout
            .contains("abstract")
    );
}

// ---------------------------------------------------------------- the command line itself

#[test]
fn unknown_profile_lists_the_valid_ones() {
    let scene = Scene::new();
    let out = scene.run_args("bogus", &[], &["true"]);
    assert!(!out.success);
    for name in [
        "offline",
        "net-read-only",
        "workspace-write",
        "workspace-net",
        "trusted",
    ] {
        assert!(out.stderr.contains(name), "{}", out.stderr);
    }
}

#[test]
fn exit_status_and_signals_are_passed_on() {
    let scene = Scene::new();
    let mut cmd = Command::cargo_bin("cadre").unwrap();
    cmd.current_dir(&scene.root)
        .timeout(Duration::from_secs(20))
        .args(["sandbox", "--", "bash", "-c", "exit 7"])
        .assert()
        .code(7);
    // Under the profiles without network cadre confines itself and becomes the command, so
    // the signal ends cadre's own process (a shell reports 128+15); where cadre stays the
    // parent (the network profiles, trusted) it reports 128+15 itself.
    for profile in ["workspace-write", "workspace-net", "trusted"] {
        let mut cmd = Command::cargo_bin("cadre").unwrap();
        let out = cmd
            .current_dir(&scene.root)
            .timeout(Duration::from_secs(20))
            .args([
                "sandbox",
                "--profile",
                profile,
                "--",
                "bash",
                "-c",
                "kill -TERM $$",
            ])
            .output()
            .unwrap();
        let by_signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
        assert!(
            out.status.code() == Some(128 + 15) || by_signal == Some(15),
            "{profile}: {:?}",
            out.status
        );
    }
    // Through a shell, as a user sees it: 143 either way.
    let cadre = assert_cmd::cargo::cargo_bin("cadre");
    let status = std::process::Command::new("bash")
        .current_dir(&scene.root)
        .arg("-c")
        .arg(format!(
            "'{}' sandbox --profile workspace-write -- bash -c 'kill -TERM $$'; exit $?",
            cadre.display()
        ))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(128 + 15));
}
