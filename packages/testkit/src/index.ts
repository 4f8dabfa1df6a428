export * from './infra';
export * from './processes';
export * from './clients';
export * from './stack';
export * from './streams';
export * from './proxy';
export * from './ingress';
export * from './otlp-receiver';
