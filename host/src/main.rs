//! `xenprobe`: xenprobe on a real Xen host (and in the lab's dom0). See `xenprobe --help`.

mod cli;
mod create;
mod exposition;
mod follow;
mod follow_print;
mod image;
mod metrics;
mod onstall;
mod peer;
mod report;
mod serve;
mod xlconfig;

use clap::{CommandFactory, Parser};
use cli::{Cli, Cmd};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print and succeed; a bad option is an ERROR (4).
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 4 } else { 0 });
        }
    };
    let res = match cli.cmd {
        Cmd::Create(a) => create::main(a),
        Cmd::XlConfig(a) => xlconfig::main(a),
        Cmd::Report(a) => report::report(a),
        Cmd::Compare(a) => report::compare(a),
        Cmd::Follow(a) => follow::main(a),
        Cmd::Peer(cli::Peer::VchanEcho(a)) => peer::vchan_echo(a),
        Cmd::Completions(a) => {
            clap_complete::generate(
                a.shell,
                &mut Cli::command(),
                "xenprobe",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
    };
    match res {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            eprintln!("(see `xenprobe --help`)");
            std::process::exit(4);
        }
    }
}
