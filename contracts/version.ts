/** Part of every stage key: bump when a stage's output for the same input would change. */
export const CODE_VERSION = '0.2.0';
