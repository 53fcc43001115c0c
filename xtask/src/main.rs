//! `cargo xtask`: build xenprobe, boot it in the virtual lab, test it.
//!
//! Exit codes of `run` follow xtf-runner: 0 SUCCESS, 3 SKIP, 4 ERROR,
//! 5 FAILURE, 6 CRASH. A bad xtask option is an ERROR (4) with a message.

mod bench;
mod browser;
mod build;
mod cli;
mod disk;
#[cfg(test)]
mod disk_tests;
mod dist;
mod lab;
mod matrix;
mod progress;
mod prom;
mod report;
mod run;
mod scenario;
mod summary;
mod test;
mod xenbuild;
mod xl;
mod xs_compare;
/// Xen's trace around each stall is the report library's (`xp_host::xtrace`); what a lab
/// scenario expects of it is checked here.
mod xtrace {
    pub mod expect;
}

use cli::Args;

/// Each command's help, in the order `cargo xtask help` lists them.
const SECTIONS: [(&str, &str); 9] = [
    ("build", BUILD_HELP),
    ("run", run::HELP),
    ("test", test::HELP),
    ("report", report::HELP),
    ("xl", xl::HELP),
    ("bench", bench::HELP),
    ("matrix", matrix::HELP),
    ("dist", dist::HELP),
    ("xen-build", xenbuild::HELP),
];

const BUILD_HELP: &str =
    "  build              build the probe kernel (target/x86_64-unknown-none/release/xenprobe)";

const EXIT_CODES: &str = "exit codes (run): 0 SUCCESS, 3 SKIP, 4 ERROR, 5 FAILURE, 6 CRASH";

/// Prints the help; a closed pipe (`| head`) is not an error.
fn print_help(only: Option<&str>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{}", help(only));
}

/// `cargo xtask help`: every command; `cargo xtask CMD --help`: that one.
fn help(only: Option<&str>) -> String {
    let mut out = match only {
        Some(cmd) => format!("cargo xtask {cmd} [options]\n\n"),
        None => String::from("cargo xtask <command> [options]\n\ncommands:\n"),
    };
    for (name, text) in SECTIONS {
        if only.is_none_or(|o| o == name) {
            // A string continued with `\` loses its first line's indent.
            if !text.starts_with("  ") {
                out.push_str("  ");
            }
            out.push_str(text);
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(EXIT_CODES);
    out
}

fn main() {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let cmd = if argv.is_empty() {
        String::from("help")
    } else {
        argv.remove(0)
    };
    let known = SECTIONS.iter().any(|(name, _)| *name == cmd);
    if known && argv.iter().any(|a| a == "--help" || a == "-h") {
        print_help(Some(&cmd));
        std::process::exit(0);
    }
    let res = match cmd.as_str() {
        "build" => build_cmd(Args::new("build", &[], argv)),
        "run" => run::main(Args::new("run", run::USAGE, argv)),
        "test" => test::main(Args::new("test", test::USAGE, argv)),
        "report" => report::main(Args::new("report", report::USAGE, argv)),
        "xl" => xl::main(Args::new("xl", xl::USAGE, argv)),
        "bench" => bench::main(Args::new("bench", bench::USAGE, argv)),
        "matrix" => matrix::main(Args::new("matrix", matrix::USAGE, argv)),
        "dist" => dist::main(Args::new("dist", dist::USAGE, argv)),
        "xen-build" => xenbuild::main(Args::new("xen-build", xenbuild::USAGE, argv)),
        "help" | "--help" | "-h" => {
            print_help(None);
            Ok(0)
        }
        other => Err(anyhow::anyhow!(
            "unknown command '{other}' (accepted: build, run, test, report, xl, bench, matrix, dist, xen-build, help)"
        )),
    };
    match res {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            match known {
                true => eprintln!("(see `cargo xtask {cmd} --help`)"),
                false => eprintln!("(see `cargo xtask help`)"),
            }
            std::process::exit(4);
        }
    }
}

fn build_cmd(a: Args) -> anyhow::Result<i32> {
    a.finish()?;
    let elf = build::kernel()?;
    let size = std::fs::metadata(&elf)?.len();
    println!("{} ({} bytes)", elf.display(), size);
    match build::stripped_size(&elf) {
        Ok(s) => println!("stripped image: {s} bytes ({:.0} KiB)", s as f64 / 1024.0),
        Err(e) => println!("stripped size unknown: {e}"),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    /// `cargo xtask CMD --help` shows CMD's section and no other; `help` shows them all.
    #[test]
    fn every_command_has_its_help() {
        let all = super::help(None);
        for (name, _) in super::SECTIONS {
            let one = super::help(Some(name));
            assert!(one.contains(&format!("\n  {name}")), "{one}");
            assert!(
                all.contains(&format!("\n  {name}")),
                "{name} missing from help"
            );
            let others = super::SECTIONS.iter().filter(|(n, _)| *n != name);
            for (other, _) in others.filter(|(n, _)| !n.contains(name)) {
                assert!(!one.contains(&format!("\n  {other} ")), "{name}: {one}");
            }
        }
    }
}
