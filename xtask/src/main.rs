// Placeholder: the CLI is being written (build, run, test). The lab module lives in lab/.
fn main() {}
