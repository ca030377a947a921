fn main() {
    // Like other Unix tools: `clawctl status | head` ends quietly when the reader
    // goes away, instead of panicking on a broken pipe. The gateway daemon keeps
    // the default (ignored) so a closed log pipe cannot kill it.
    if std::env::args().nth(1).as_deref() != Some("gateway") {
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // A full disk or closed stdout makes print! panic; say it as an error instead.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") || msg.starts_with("failed to write") {
            clawctl::errln!("error: cannot write the output: {msg}");
            std::process::exit(1);
        }
        clawctl::errln!("clawctl crashed — this is a bug, please report it: {info}");
    }));
    std::process::exit(clawctl::cli::main());
}
