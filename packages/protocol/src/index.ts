export * from './types';
export * from './limits';
export * from './text';
export * from './cursor';
export * from './schemas';
export * from './frames';
export * from './disconnect';
