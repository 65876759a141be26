/** Whether errors are printed with their stack traces at log level `level`: only at debug and trace. */
export function showsStacks(level: string | undefined): boolean {
  const name = level?.toLowerCase();
  return name === 'debug' || name === 'trace';
}
