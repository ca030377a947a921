fn main() {
    std::process::exit(clawctl::cli::main());
}
