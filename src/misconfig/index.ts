export { checkFiles, checkText, type DeployFinding } from './deploy.js';
export { EOL_TABLE_UPDATED, endOfLife } from './eol.js';
export { ImageFilesystemChecks, imageConfigFindings } from './image.js';
