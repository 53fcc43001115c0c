//! The package as Debian's own tool reads it (dpkg-deb, on every Debian system).

use super::deb::{write, Pkg};
use std::process::Command;

fn dpkg_deb(args: &[&str], deb: &std::path::Path) -> String {
    let o = Command::new("dpkg-deb")
        .args(args)
        .arg(deb)
        .output()
        .expect("dpkg-deb runs");
    assert!(
        o.status.success(),
        "dpkg-deb {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn dpkg_deb_reads_the_package_and_extracts_the_binary() {
    let dir = std::env::temp_dir().join(format!("xenprobe-deb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deb = dir.join("xenprobe_0.1.0_amd64.deb");
    let pkg = Pkg {
        version: "0.1.0",
        binary: b"#!/bin/sh\necho xenprobe 0.1.0\n",
        completion: b"complete -F _xenprobe xenprobe\n",
        readme: b"# xenprobe\n",
    };
    write(&pkg, &deb).unwrap();
    let info = dpkg_deb(&["--info"], &deb);
    assert!(
        info.contains("Package: xenprobe") && info.contains("Version: 0.1.0"),
        "{info}"
    );
    assert!(info.contains("Architecture: amd64"), "{info}");
    let contents = dpkg_deb(&["--contents"], &deb);
    assert!(
        contents.contains("-rwxr-xr-x root/root") && contents.contains("usr/bin/xenprobe\n"),
        "{contents}"
    );
    assert!(
        contents.contains("usr/share/bash-completion/completions/xenprobe\n"),
        "{contents}"
    );
    let root = dir.join("root");
    let x = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&root)
        .status()
        .unwrap();
    assert!(x.success());
    let bin = std::fs::read(root.join("usr/bin/xenprobe")).unwrap();
    assert_eq!(bin, pkg.binary);
    std::fs::remove_dir_all(&dir).unwrap();
}
