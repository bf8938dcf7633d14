//! The parser's output type, the JSON Resume profile; it lives in `hirewire-profile` so that
//! the domain can use it without building the parser.

pub use hirewire_profile::*;
