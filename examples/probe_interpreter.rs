//! Prints what wheelwright learns from an interpreter: its marker environment and the first
//! compatibility tags in priority order. `cargo run --example probe_interpreter -- python3`
use std::path::PathBuf;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let python = std::env::args().nth(1).unwrap_or_else(|| "python3".into());
    let interpreter = wheelwright::interpreter::probe(&PathBuf::from(python)).await?;
    println!(
        "{} ({})",
        interpreter.label,
        interpreter.executable.display()
    );
    println!(
        "python_full_version = {}",
        interpreter.markers.python_full_version().string
    );
    for tag in interpreter.tags.tags().iter().take(10) {
        println!("  {tag}");
    }
    println!("  ... {} tags in all", interpreter.tags.len());
    Ok(())
}
