export * from './history';
export * from './stored-state';
export * from './checker';
export * from './recorders';
