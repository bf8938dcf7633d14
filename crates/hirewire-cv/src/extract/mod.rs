//! Text extraction, one module per format. Each returns raw text in reading order; the caller
//! normalises it.

mod cmap;
pub mod docx;
pub mod html;
pub mod odt;
pub mod pdf;
pub mod txt;
pub(crate) mod xml;
mod zipread;
