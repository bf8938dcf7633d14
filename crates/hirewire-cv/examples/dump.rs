//! Prints the extracted text (and, with `--json`, the profile) of each file given.

fn main() {
    let mut json = false;
    for arg in std::env::args().skip(1) {
        if arg == "--json" {
            json = true;
            continue;
        }
        let bytes = match std::fs::read(&arg) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{arg}: {e}");
                continue;
            }
        };
        println!("===== {arg}");
        match hirewire_cv::parse(&bytes, &hirewire_cv::Limits::default()) {
            Ok(p) => {
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&p.profile).unwrap_or_default()
                    );
                } else {
                    println!("{}", p.text);
                }
            }
            Err(e) => println!("ERROR: {e}"),
        }
    }
}
