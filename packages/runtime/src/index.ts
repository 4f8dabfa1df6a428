export * from './clock';
export * from './config';
export * from './logger';
export * from './errors';
export * from './shutdown';
export * from './service-app';
export * from './process-policy';
export * from './failpoints';
