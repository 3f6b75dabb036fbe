// The hello handler written as a plain Node.js Lambda function: the baseline the wasm and
// native builds are compared against.
export const handler = async (event, context) => {
  const name = event?.name ?? 'world';
  console.log(`greeting ${name} from ${context.functionName}`);
  return { message: `Hello, ${name}!` };
};
