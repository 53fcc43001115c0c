use super::*;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xp-image-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// An ELF32 i386 file with a multiboot header, Xen's banner format and a compile date.
fn fake_xen() -> Vec<u8> {
    let mut b = vec![0u8; 0x400];
    b[..4].copy_from_slice(b"\x7fELF");
    (b[4], b[5], b[18]) = (1, 1, 3);
    b[0x100..0x104].copy_from_slice(&0x1bad_b002u32.to_le_bytes());
    b.extend_from_slice(b"Xen version %d.%d%s (%s@%s) (%s) %s %s\n\0");
    b.extend_from_slice(b"Wed Nov  4 16:52:28 UTC 2026\0");
    b
}

fn fake_bzimage() -> Vec<u8> {
    let mut b = vec![0u8; 0x1000];
    b[0x202..0x206].copy_from_slice(b"HdrS");
    b[0x20e..0x210].copy_from_slice(&0x100u16.to_le_bytes());
    b[0x300..0x310].copy_from_slice(b"6.1.0-57-amd64 (");
    b
}

#[test]
fn xen_image_plain_and_gzip() {
    let d = tmp("xen");
    let f = d.join("xen");
    fs::write(&f, fake_xen()).unwrap();
    let (boot, info) = prepare_xen(&f, &d).unwrap();
    assert_eq!(fs::read(&boot).unwrap(), fake_xen());
    assert_eq!(info.sha256.len(), 64);
    assert_eq!(
        info.found.as_deref(),
        Some("compiled Wed Nov  4 16:52:28 UTC 2026")
    );
    let status = Command::new("gzip").arg("-k").arg(&f).status().unwrap();
    assert!(status.success());
    let (boot_gz, info_gz) = prepare_xen(&d.join("xen.gz"), &d).unwrap();
    assert_eq!(fs::read(boot_gz).unwrap(), fake_xen());
    assert_eq!(info_gz.kind, "Xen hypervisor, gzip-compressed");
    assert_ne!(
        info_gz.sha256, info.sha256,
        "the sha256 is the given file's"
    );
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn non_xen_files_are_refused_naming_what_they_are() {
    let d = tmp("refuse");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "bz",
            fake_bzimage(),
            "a Linux bzImage (6.1.0-57-amd64: a kernel",
        ),
        ("txt", b"hello world\n".to_vec(), "text (\"hello world\")"),
        ("empty", Vec::new(), "an empty file"),
        ("bin", vec![0xde, 0xad, 0xbe, 0xef], "data (first bytes"),
    ];
    for (name, data, want) in cases {
        let f = d.join(name);
        fs::write(&f, &data).unwrap();
        let e = format!("{:#}", prepare_xen(&f, &d).unwrap_err());
        let want = want.split("(...").next().unwrap();
        assert!(
            e.contains("not a Xen hypervisor image") && e.contains(want),
            "{e}"
        );
    }
    let e = format!("{:#}", prepare_xen(&d.join("missing"), &d).unwrap_err());
    assert!(e.contains("cannot read it"), "{e}");
    let planted = d.join("xen-planted/xen");
    let e = format!("{:#}", prepare_xen(&planted, &d).unwrap_err());
    assert!(
        e.ends_with("cannot read it (the planted-fault Xen: build it with `cargo xtask xen-build`): No such file or directory (os error 2)"),
        "{e}"
    );
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn dom0_kernel_refuses_a_hypervisor() {
    let d = tmp("dom0");
    let f = d.join("xen");
    fs::write(&f, fake_xen()).unwrap();
    let e = format!("{:#}", prepare_dom0_kernel(&f, &d).unwrap_err());
    assert!(
        e.contains("not a kernel Xen can boot") && e.contains("ELF32 i386"),
        "{e}"
    );
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn compile_date_needs_the_date_shape() {
    assert_eq!(compile_date(b"\0Wed Nov 4 junk here and more\0"), None);
    let b = b"x\0Tue Apr  1 10:00:00 CEST 2025\0";
    assert_eq!(
        compile_date(b).as_deref(),
        Some("Tue Apr  1 10:00:00 CEST 2025")
    );
}
