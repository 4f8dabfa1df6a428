/** Edges `from → to` of a source folder's import graph by module, each with the files that make it, sorted. */
export function importEdges(root: string): Array<{ edge: string; files: string[] }>;
