/** A start-up failure an operator can act on; its message is one line. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}
