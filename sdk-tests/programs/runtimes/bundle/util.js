export default class Greeter {
	#name;
	constructor(name) {
		this.#name = name;
	}
	greet() {
		return `hello, ${this.#name}!`;
	}
}

export function add(a, b) {
	return a + b;
}
