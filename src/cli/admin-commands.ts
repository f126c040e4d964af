/** Admin subcommands over the admin API (filled in with the admin API). */
export async function runAdminCommand(
  name: string,
  _args: string[],
  _env: Record<string, string | undefined>,
  _out: NodeJS.WritableStream,
): Promise<number> {
  process.stderr.write(`hookbuffer: unknown command ${name} (see hookbuffer --help)\n`);
  return 2;
}
