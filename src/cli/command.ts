// The contract every subcommand module's default export fulfils.
export interface Command {
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}
