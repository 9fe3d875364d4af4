// Published container ports are reached on loopback, never on the Docker bridge's address: tests only
// talk to this machine's loopback range. Set before Testcontainers resolves its host.
process.env["TESTCONTAINERS_HOST_OVERRIDE"] ??= "127.0.0.1";
export {};
