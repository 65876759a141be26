/** File name of a project file: looked for in the working directory and its parents (see load.ts). */
export const PROJECT_FILE_NAME = '.mcp-keyproxy.json';
