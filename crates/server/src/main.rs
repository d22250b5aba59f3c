//! The `ecommunity` binary: everything lives in the library; see `cli`.

fn main() -> std::process::ExitCode {
    ecommunity::cli::main()
}
