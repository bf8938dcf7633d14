//! Any bytes: sniffing and parsing must return, never panic past the library. The PDF backend
//! panics on some damaged files; `hirewire-cv` catches those and answers `CvError::Corrupt`.
//! libfuzzer-sys installs a panic hook that aborts on every panic, caught or not, so `init`
//! replaces it with a silent one: a panic that escapes `parse` still aborts, because the
//! harness wraps each input in `catch_unwind` and aborts when it unwinds that far.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let _ = hirewire_cv::sniff(data);
        let _ = hirewire_cv::parse(data, &hirewire_cv::Limits::default());
    }
);
